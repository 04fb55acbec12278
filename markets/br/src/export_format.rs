//! The BR CRM loader reads `;`-delimited files with `DD/MM/YYYY` dates.

use pipeline_core::ExportFormat;

/// `;` and `DD/MM/YYYY`.
pub fn export_format() -> ExportFormat {
    ExportFormat { delimiter: b';', date_format: "%d/%m/%Y".into() }
}
