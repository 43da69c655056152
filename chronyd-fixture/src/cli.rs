//! `cargo xtask chronyd ...` (stub).
pub fn run(_args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    Err("not implemented yet".into())
}
