use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_serve_on_loopback_8080_with_data_in_dot_data() {
    let s = Settings::load(&Overrides::default(), env(&[])).unwrap();
    assert_eq!(s.server.bind.to_string(), "127.0.0.1:8080");
    assert_eq!(s.storage.data_dir, PathBuf::from("./data"));
}

#[test]
fn environment_overrides_nested_keys_with_typed_values() {
    let s = Settings::load(
        &Overrides::default(),
        env(&[
            ("PARLEY_SERVER__BIND", "0.0.0.0:9000"),
            ("PARLEY_AUTH__SESSION_TTL_HOURS", "3"),
        ]),
    )
    .unwrap();
    assert_eq!(s.server.bind.to_string(), "0.0.0.0:9000");
    assert_eq!(s.auth.session_ttl_hours, 3);
}

#[test]
fn cli_flags_win_over_environment() {
    let overrides = Overrides {
        data_dir: Some("/tmp/x".into()),
        bind: Some("127.0.0.1:1".parse().unwrap()),
        ..Default::default()
    };
    let s = Settings::load(&overrides, env(&[("PARLEY_STORAGE__DATA_DIR", "/tmp/y")])).unwrap();
    assert_eq!(s.storage.data_dir, PathBuf::from("/tmp/x"));
    assert_eq!(s.server.bind.port(), 1);
}

#[test]
fn unknown_environment_key_is_named() {
    let err = Settings::load(&Overrides::default(), env(&[("PARLEY_SERVER__BINDD", "x")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("bindd"), "{err}");
}

#[test]
fn bad_value_is_named() {
    let err = Settings::load(
        &Overrides::default(),
        env(&[("PARLEY_SERVER__BIND", "nope")]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("server.bind"), "{err}");
    let err = Settings::load(
        &Overrides::default(),
        env(&[("PARLEY_SERVER__PUBLIC_URL", "ftp://x")]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("server.public_url"), "{err}");
}

#[test]
fn secrets_never_print() {
    let s = Settings::load(
        &Overrides::default(),
        env(&[("PARLEY_EMAIL__SMTP_PASSWORD", "hunter2-secret")]),
    )
    .unwrap();
    assert_eq!(s.email.smtp_password.0, "hunter2-secret");
    assert!(!format!("{s:?}").contains("hunter2"));
    assert!(!toml::to_string(&s).unwrap().contains("hunter2"));
    let err = Settings::load(
        &Overrides::default(),
        env(&[("PARLEY_EMAIL__SMTP_SECURITY", "ssl")]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("email.smtp_security"), "{err}");
}

#[test]
fn unknown_key_in_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[storage]\ndata_dirr = \"x\"\n").unwrap();
    let overrides = Overrides {
        config_file: Some(file),
        ..Default::default()
    };
    let err = Settings::load(&overrides, env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("data_dirr"), "{err}");
}

#[test]
fn example_config_matches_the_defaults() {
    let text = include_str!("../../config.example.toml");
    let from_file: Settings = toml::from_str(text).unwrap();
    let defaults = Settings::default();
    assert_eq!(
        serde_json::to_value(&from_file).unwrap(),
        serde_json::to_value(&defaults).unwrap()
    );
}
