//! AWS-style credentials for local backends.

use std::fmt;

/// An access key pair plus region: what a client signs requests with (SigV4) and what a local
/// backend checks them against.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The access key id (`AWS_ACCESS_KEY_ID`).
    pub access_key_id: String,
    /// The secret access key (`AWS_SECRET_ACCESS_KEY`); never printed by `Debug`.
    pub secret_access_key: String,
    /// The region requests are signed for (`AWS_REGION`).
    pub region: String,
}

impl Credentials {
    /// Credentials for one embedded server's life: access key id `workbench` and a secret of 32
    /// random bytes (hex) from the OS, so a request signed with the public [`Credentials::local`]
    /// pair, or with an earlier server's secret, is refused. Clients get the secret from the
    /// server's endpoint (runners through their environment, other processes from a mode-0600
    /// state file).
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)?;
        Ok(Self { secret_access_key: hex::encode(secret), ..Self::local() })
    }

    /// The fixed test credentials every local backend uses, so that runs are reproducible and no
    /// real AWS secret is ever needed on a developer machine.
    pub fn local() -> Self {
        Self {
            access_key_id: "workbench".to_owned(),
            secret_access_key: "workbench-secret".to_owned(),
            region: "us-east-1".to_owned(),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"******")
            .field("region", &self.region)
            .finish()
    }
}
