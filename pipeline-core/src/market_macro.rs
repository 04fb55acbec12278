//! [`market!`](crate::market): a market crate declared once.
//!
//! A market crate's `lib.rs` is one invocation, naming its type and the hooks it overrides:
//!
//! ```ignore
//! pipeline_core::market! {
//!     /// The German market.
//!     pub struct FoobarDe;
//!     overrides: [normalize, eligible_channels];
//! }
//! ```
//!
//! Each listed hook is a module `src/<hook>.rs` holding `pub fn <hook>` with the signature of
//! [`crate::hooks::base`]'s function of the same name. From that one list the macro declares the modules, the
//! `Market` methods that call them, and [`Market::overrides`](crate::Market::overrides) with each file's
//! workspace path and text, so the three can no longer disagree. The id is the crate's package name, the
//! configuration and model are the crate's `market.toml` and `model.toml`, and the sources are those the crate's
//! `build.rs` embeds (`workspace_sources::embed`, which also sets `WORKSPACE_CRATE_DIR`). The registry finds the
//! crate through the `ID` and `load_market` items the macro adds at the crate root.

#[doc(hidden)]
pub use chrono::NaiveDate;
#[doc(hidden)]
pub use polars::prelude::Expr;

/// Declares a market crate: its struct, `ID`, `load`, the crate-level `ID` and `load_market` the registry uses,
/// and the `Market` impl with one override per listed hook (see the [module docs](crate::market_macro)).
#[macro_export]
macro_rules! market {
    ($(#[$attr:meta])* pub struct $name:ident; overrides: [$($hook:ident),* $(,)?];) => {
        $(mod $hook;)*

        $(#[$attr])*
        pub struct $name {
            def: $crate::MarketDef,
        }

        /// Market id: the crate's package name.
        pub const ID: &str = env!("CARGO_PKG_NAME");

        /// Loads the market as the registry holds it.
        pub fn load_market() -> $crate::Result<::std::boxed::Box<dyn $crate::Market>> {
            Ok(::std::boxed::Box::new($name::load()?))
        }

        impl $name {
            /// Market id: the crate's package name.
            pub const ID: &'static str = ID;

            /// Loads the market's configuration (`market.toml` over the base) and model (`model.toml`).
            pub fn load() -> $crate::Result<Self> {
                let market = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/market.toml"));
                let model = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/model.toml"));
                Ok(Self { def: $crate::MarketDef::load(Self::ID, market, model)? })
            }
        }

        impl $crate::Market for $name {
            fn def(&self) -> &$crate::MarketDef {
                &self.def
            }

            fn sources(&self) -> &'static [$crate::sources::SourceFile] {
                include!(concat!(env!("OUT_DIR"), "/sources.rs"))
            }

            fn overrides(&self) -> &'static [$crate::HookOverride] {
                &[$($crate::HookOverride {
                    hook: $crate::__hook_variant!($hook),
                    file: concat!(env!("WORKSPACE_CRATE_DIR"), "/src/", stringify!($hook), ".rs"),
                    source: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/", stringify!($hook), ".rs")),
                }),*]
            }

            $($crate::__hook_method!($hook);)*
        }
    };
}

/// The [`Hook`](crate::Hook) of a hook's name (used by [`market!`](crate::market)); an unknown name fails to
/// compile with the list of hooks.
#[doc(hidden)]
#[macro_export]
macro_rules! __hook_variant {
    (normalize) => {
        $crate::Hook::Normalize
    };
    (eligible_channels) => {
        $crate::Hook::EligibleChannels
    };
    (content) => {
        $crate::Hook::Content
    };
    (schedule) => {
        $crate::Hook::Schedule
    };
    (export_format) => {
        $crate::Hook::ExportFormat
    };
    ($other:ident) => {
        compile_error!(concat!(
            "unknown hook `",
            stringify!($other),
            "`: a market may override normalize, eligible_channels, content, schedule, export_format"
        ))
    };
}

/// The `Market` method of one overridden hook, calling `<hook>::<hook>` with the base function's arguments (used
/// by [`market!`](crate::market)).
#[doc(hidden)]
#[macro_export]
macro_rules! __hook_method {
    (normalize) => {
        fn normalize(&self, raw: $crate::raw::RawTable) -> $crate::Result<$crate::raw::ParsedTable> {
            normalize::normalize($crate::Market::config(self), raw)
        }
    };
    (eligible_channels) => {
        fn eligible_channels(&self) -> ::std::vec::Vec<(&'static str, $crate::market_macro::Expr)> {
            eligible_channels::eligible_channels()
        }
    };
    (content) => {
        fn content(
            &self,
            action: $crate::market_macro::Expr,
            language: $crate::market_macro::Expr,
        ) -> $crate::market_macro::Expr {
            content::content($crate::Market::config(self), action, language)
        }
    };
    (schedule) => {
        fn schedule(&self, as_of: $crate::market_macro::NaiveDate) -> $crate::market_macro::NaiveDate {
            schedule::schedule($crate::Market::config(self), as_of)
        }
    };
    (export_format) => {
        fn export_format(&self) -> $crate::ExportFormat {
            export_format::export_format()
        }
    };
    ($other:ident) => {};
}
