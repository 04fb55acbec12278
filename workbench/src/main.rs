//! `wb`: the workbench's command line. Everything lives in the library; see `workbench::main`.

fn main() -> std::process::ExitCode {
    workbench::main()
}
