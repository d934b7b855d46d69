use super::*;

#[test]
fn email_statuses_rank_the_same_in_rust_and_in_sql() {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    for status in EmailStatus::ALL {
        let ranked: i64 = conn
            .query_row(
                &format!(
                    "SELECT {} FROM (SELECT ?1 AS status)",
                    EmailStatus::rank_sql()
                ),
                [status.as_str()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(ranked, status.rank(), "{status}");
    }
    assert!(EmailStatus::Bounced.rank() > EmailStatus::Clicked.rank());
    assert!(EmailStatus::Sent.rank() > EmailStatus::Pending.rank());
}

#[test]
fn lines_refuse_header_injection_and_invisible_characters() {
    assert!(clean_line("n", "Bob\r\nBcc: x@y.z", 50).is_err());
    assert!(clean_line("n", "a\u{202E}gnp.exe", 50).is_err());
    assert!(clean_line("n", "ad\u{200B}min", 50).is_err());
    assert!(clean_line("n", "nul\0", 50).is_err());
    assert!(clean_line("n", "   ", 50).is_err());
    assert_eq!(clean_line("n", "  Zoë <b>  ", 50).unwrap(), "Zoë <b>");
    assert!(clean_line("n", &"x".repeat(51), 50).is_err());
}

#[test]
fn text_keeps_newlines_and_normalizes_crlf() {
    assert_eq!(clean_text("c", "a\r\nb\rc", 10).unwrap(), "a\nb\nc");
    assert!(clean_text("c", "a\u{0007}", 10).is_err());
}

#[test]
fn emails_are_checked() {
    assert!(clean_email("e", "ann@shop.example").is_ok());
    for bad in [
        "ann",
        "ann@",
        "@x.y",
        "a b@x.y",
        "ann@localhost",
        "a..b@x.y",
        "ann@x.y\nbcc@z.q",
        "é@x.y",
    ] {
        assert!(clean_email("e", bad).is_err(), "{bad}");
    }
}

#[test]
fn languages_and_codes() {
    assert!(clean_language("l", "en").is_ok());
    assert!(clean_language("l", "pt-BR").is_ok());
    assert!(clean_language("l", "EN").is_err());
    assert!(clean_store_code("my-shop-1").is_ok());
    assert!(clean_store_code("My Shop").is_err());
    assert!(clean_store_code("-x").is_err());
}

#[test]
fn enums_round_trip_and_reject_unknown_values() {
    for t in Tier::ALL {
        assert_eq!(t.as_str().parse::<Tier>().unwrap(), *t);
    }
    assert!("gold".parse::<Tier>().is_err());
}
