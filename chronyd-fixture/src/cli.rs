//! `cargo xtask chronyd ...` (stub until the CLI lands).

/// Run the CLI.
pub fn run(_args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    Err("not implemented yet".into())
}
