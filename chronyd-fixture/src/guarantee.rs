//! Tests of a guarantee that only some builds give, such as what libchrony-sys's own C library guarantees
//! beyond libchrony 0.2 (`libchrony_sys::Guarantee`): checked where given, reported where not.

use std::io::Write;

/// Set to `1`, a guarantee that is not given fails the test instead of being skipped: the CI `system` stage
/// sets it, since the system library there is this workspace's own C library, which gives every guarantee.
pub const REQUIRE_GUARANTEES_ENV: &str = "CHRONY_TEST_REQUIRE_GUARANTEES";

/// Whether the calling test should check a guarantee. `given`: the library under test gives it; `what` names
/// it. If not given, writes `guarantee not checked: <test>: <what>` to stderr (directly, so the test
/// harness's capture does not hide it) and returns false, or panics when [`REQUIRE_GUARANTEES_ENV`] is `1`.
pub fn check_guarantee(given: bool, what: &str) -> bool {
    if given {
        return true;
    }
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    if std::env::var(REQUIRE_GUARANTEES_ENV).is_ok_and(|v| v == "1") {
        panic!("{test}: the linked library does not give: {what} ({REQUIRE_GUARANTEES_ENV}=1)");
    }
    let _ = writeln!(
        std::io::stderr(),
        "guarantee not checked: {test}: {what} (the linked library does not give it)"
    );
    false
}
