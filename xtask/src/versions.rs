//! The `versions` stage of `cargo xtask ci`: the report tests again against chrony built from Debian's source
//! packages of [`SUITES`](chronyd_fixture::source_build::SUITES) (trixie's 4.6.1, sid's 4.9), each compared with
//! its own chronyc: the Rust suites of libchrony-sys and chrony-core, and the Python report tests against the
//! wheel the `python` stage installed. The builds are cached under `target/chrony/<version>`.

use crate::util::{Result, cargo, root, run};
use chronyd_fixture::{CHRONY_DIR_ENV, source_build};

/// The Python tests that read reports from a real chronyd and compare them with chronyc (tracking included):
/// the rest of the suite (packaging, typing, faults) does not depend on chrony's version.
const PYTHON_REPORT_TESTS: &str = "test_values.py test_sources.py test_activity.py \
    test_serverstats.py test_sourcestats.py test_rtcdata.py test_sourcename.py test_authdata.py \
    test_smoothing.py test_ntpdata.py test_clients.py test_selectdata.py test_snapshot.py \
    test_cli.py test_check.py test_prometheus.py test_exposition.py test_aio.py";

pub fn stage(xtask_bin: &std::path::Path) -> Result {
    let python = crate::python::ensure_venv()?;
    let tests = root().join("pychrony-py/tests");
    let names = PYTHON_REPORT_TESTS.split_whitespace();
    let files: Vec<_> = names.map(|f| tests.join(f)).collect();
    for suite in source_build::SUITES {
        let dir = source_build::build(suite)?;
        println!("\n---- {suite}: {CHRONY_DIR_ENV}={}", dir.display());
        run(cargo("test -p libchrony-sys -p chrony-core").env(CHRONY_DIR_ENV, &dir))?;
        let mut pytest = crate::pyenv::pytest(&python, xtask_bin);
        pytest.args(&files);
        run(pytest.env(CHRONY_DIR_ENV, &dir))?;
    }
    Ok(())
}
