use super::*;

#[test]
fn backoff_doubles_with_jitter_and_is_capped() {
    for (attempt, expected) in [(1, 30.0), (2, 60.0), (3, 120.0), (10, 3600.0), (40, 3600.0)] {
        let d = backoff(30, attempt).num_milliseconds() as f64 / 1000.0;
        assert!(
            d >= expected * 0.8 && d <= expected * 1.2,
            "attempt {attempt}: {d}"
        );
    }
}
