use super::thumbnail::Gate;
use super::*;

#[test]
fn display_names_lose_directories_and_invisible_characters() {
    assert_eq!(display_name("../../etc/passwd", "txt"), "passwd");
    assert_eq!(display_name("C:\\x\\report.pdf", "pdf"), "report.pdf");
    assert_eq!(display_name("in\u{202E}fdp.exe", "pdf"), "infdp.exe");
    assert_eq!(display_name("a\0b", "txt"), "ab");
    assert_eq!(display_name("..", "zip"), "attachment.zip");
    assert_eq!(display_name(&"x".repeat(300), "txt").chars().count(), 255);
}

#[test]
fn the_gate_lets_in_at_most_its_slots() {
    let gate = std::sync::Arc::new(Gate::new(2));
    let most = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (gate, most) = (gate.clone(), most.clone());
            std::thread::spawn(move || {
                for _ in 0..50 {
                    let _turn = gate.enter();
                    most.fetch_max(gate.inside(), std::sync::atomic::Ordering::SeqCst);
                    std::thread::yield_now();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!((1..=2).contains(&most.load(std::sync::atomic::Ordering::SeqCst)));
    assert_eq!(gate.inside(), 0);
    let (_a, _b) = (gate.enter(), gate.enter());
    assert_eq!(gate.inside(), 2);
}

#[test]
fn a_full_disk_is_its_own_error() {
    let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
    assert!(matches!(
        AttachmentError::from(full),
        AttachmentError::NoSpace
    ));
    let other = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
    assert!(matches!(
        AttachmentError::from(other),
        AttachmentError::Io(_)
    ));
}
