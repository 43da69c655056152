//! xtask's own unit tests: its parsers, tables and checks (the stages themselves are run by `cargo xtask ci`).

mod actionlint {
    use xtask::actionlint::check_ci_stages;

    #[test]
    fn every_stage_needs_a_step_of_its_own() {
        let stages = || ["install", "fmt"].into_iter();
        let yml = "      - run: $AS_ROOT cargo xtask ci --stage install\n";
        let err = check_ci_stages(stages(), yml).unwrap_err().to_string();
        assert!(err.contains("fmt") && !err.contains("install,"), "{err}");
        let prefix_only = format!("{yml}      - run: cargo xtask ci --stage fmtx\n");
        assert!(check_ci_stages(stages(), &prefix_only).is_err());
        let yml = format!("{yml}      - run: $AS_ROOT cargo xtask ci --stage fmt\n");
        check_ci_stages(stages(), &yml).unwrap();
    }
}

mod ci {
    #[test]
    fn stage_names_are_unique() {
        let names = xtask::ci::STAGES.iter().map(|s| s.name);
        let names: std::collections::BTreeSet<&str> = names.collect();
        assert_eq!(names.len(), xtask::ci::STAGES.len());
    }
}

mod install {
    use std::collections::BTreeSet;
    use xtask::install::{Check::*, Provider::*, *};

    #[test]
    fn probe_names_are_unique_and_every_probe_names_a_provider() {
        let names: BTreeSet<&str> = PROBES.iter().map(|p| p.name).collect();
        assert_eq!(names.len(), PROBES.len());
        assert!(PROBES.iter().all(|p| !matches!(p.provider, Apt(""))));
    }

    #[test]
    fn failed_probes_give_each_package_once() {
        let find = |name: &str| PROBES.iter().find(|p| p.name == name).unwrap();
        let names = "python3 >= 3.10|system python3.X for nobody|valgrind|chronyd and chronyc";
        let probes: Vec<&Probe> = names.split('|').map(find).collect();
        assert_eq!(packages_of(&probes), ["python3", "valgrind"]);
    }

    #[test]
    fn shell_probes_report_the_first_line_or_the_last_error() {
        let check = |script| Probe {
            name: "",
            needed_by: "",
            provider: Chrony,
            check: Sh(script),
        };
        let dir = std::env::temp_dir();
        let found = check("echo; echo \"$SANITIZE_CFLAGS\"; echo x").check(&dir);
        assert_eq!(found.as_deref(), Ok(xtask::sanitize::CFLAGS));
        let err = check("echo; echo err >&2; exit 3").check(&dir);
        assert_eq!(err, Err("sh failed (exit status: 3): err".into()));
    }
}

mod system_lib {
    #[test]
    fn pc_file_names_the_prefix_and_the_library() {
        let pc = xtask::system_lib::pc_file("/opt/x".as_ref());
        assert!(pc.starts_with("prefix=/opt/x\nexec_prefix=${prefix}\n"));
        for line in [
            "Version: 0.2",
            "Libs: -L${libdir} -lchrony",
            "Cflags: -I${includedir}",
        ] {
            assert!(pc.contains(&format!("\n{line}\n")), "{line}");
        }
        assert!(pc.contains(&format!("Version: {}", xtask::system_lib::VERSION)));
    }
}

mod third_party {
    use xtask::util::{cargo, output};

    #[test]
    fn the_third_party_list_is_current() {
        xtask::third_party::run_cli(&["--check".into()]).unwrap();
    }

    /// Both licences require their text to go with every copy: each published crate carries them.
    #[test]
    fn published_crates_carry_both_licence_texts() {
        for krate in ["libchrony-sys", "chrony-core"] {
            let mut list = cargo("package --list --allow-dirty --offline -p");
            let files = output(list.arg(krate)).unwrap();
            for text in ["LICENSE-MIT", "LICENSE-APACHE"] {
                assert!(files.lines().any(|l| l == text), "{krate} lacks {text}");
            }
        }
    }
}

mod util {
    use std::path::Path;
    use xtask::util::*;

    #[test]
    fn echoed_commands_can_be_pasted_into_a_shell() {
        let mut gcc = cmd("gcc -o");
        gcc.env("CFLAGS", "-fsanitize=address -g");
        gcc.args(["out file", "it's.c"]);
        let pasted = r"CFLAGS='-fsanitize=address -g' gcc -o 'out file' 'it'\''s.c'";
        assert_eq!(describe(&gcc), pasted);
        assert_eq!(short(&cmd("/usr/bin/false x")), "false x");
    }

    #[test]
    fn executables_are_read_from_cargo_json() {
        let json = r#"{"reason":"compiler-artifact","manifest_path":"/w/c/Cargo.toml","profile":{"test":true},"executable":"/w/t/deps/fork-1"}
{"reason":"compiler-artifact","manifest_path":"/w/c/Cargo.toml","profile":{"test":false},"executable":"/w/t/examples/x"}
{"reason":"compiler-artifact","manifest_path":"/w/c/Cargo.toml","profile":{"test":false},"executable":null}
{"reason":"build-finished","success":true}"#;
        let found = executables(json);
        let path = |e: &Executable| e.path.clone();
        assert_eq!(path(&found[0]), Path::new("/w/t/deps/fork-1"));
        assert_eq!(path(&found[1]), Path::new("/w/t/examples/x"));
        assert!(found.len() == 2 && found[0].test && !found[1].test);
        assert!(found.iter().all(|e| e.manifest.ends_with("w/c/Cargo.toml")));
    }

    #[test]
    fn arguments_are_checked_against_the_spec() {
        let parse = |line: &str| {
            let args: Vec<String> = line.split_whitespace().map(String::from).collect();
            Args::parse(&args, "", "--quick --n= W")
        };
        let parsed = parse("--n 1 --quick --n=2 x").unwrap();
        assert!(parsed.flag("--quick") && !parsed.flag("--n=2") && parsed.words == ["x"]);
        assert_eq!(parsed.value("--n"), Some("2"));
        assert_eq!(parsed.number("--m", 7).unwrap(), 7);
        for bad in ["--other", "--quick=1", "--n", "x y", "-x"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tables_align_their_columns() {
        let rows = [["fmt", "1.5", "ok"], ["total", "12.0", ""]].map(|r| r.map(String::from));
        let printed = table("stage|seconds|result", &rows, &[1]);
        assert_eq!(
            printed,
            "stage  seconds  result\nfmt        1.5  ok\ntotal     12.0\n"
        );
    }

    #[test]
    fn pychrony_version_is_read() {
        assert!(pychrony_version().unwrap().split('.').count() >= 3);
    }
}

mod valgrind {
    use xtask::valgrind::*;

    #[test]
    fn summary_reads_the_test_process_only() {
        let log = "==10== Memcheck, a memory error detector\n\
                   ==11==    definitely lost: 48 bytes in 1 blocks\n\
                   ==10==    definitely lost: 1,024 bytes in 2 blocks\n\
                   ==10== ERROR SUMMARY: 3 errors from 1 contexts (suppressed: 0 from 0)\n";
        assert_eq!(summary(log), (3, 1024));
    }
}

mod wheels {
    use std::fs;
    use std::path::Path;
    use xtask::wheels::*;

    #[test]
    fn abi3_manylinux2014_wheel_names_pass() {
        let ok =
            "/t/chrony_monitor-1.0.0-cp310-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl";
        check_wheel_name(Path::new(ok)).unwrap();
        for bad in [
            "/t/chrony_monitor-1.0.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            "/t/chrony_monitor-1.0.0-cp310-abi3-manylinux_2_34_x86_64.whl",
            // The unrelated project's name, which this one had before.
            "/t/pychrony-1.0.0-cp310-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "/t/other-1.0.0-cp310-abi3-manylinux_2_17_x86_64.whl",
        ] {
            assert!(check_wheel_name(Path::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn artifacts_need_exactly_one_of_each() {
        let dir = std::env::temp_dir().join(format!("xtask-wheels-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("a.whl"), "").unwrap();
        assert!(artifacts(&dir).is_err());
        fs::write(dir.join("a.tar.gz"), "").unwrap();
        let found = artifacts(&dir).unwrap();
        assert_eq!(found, (dir.join("a.whl"), dir.join("a.tar.gz")));
        fs::write(dir.join("b.whl"), "").unwrap();
        assert!(artifacts(&dir).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
