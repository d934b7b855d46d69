use super::*;
use futures_util::FutureExt;

/// A database in a new temporary directory (kept while the returned guard lives), with one
/// pooled reader and Parley's own checkpoints.
fn fresh_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        &dir.path().join(DB_FILE),
        1,
        Checkpoints::Parley,
        |_| Ok(()),
    )
    .unwrap();
    (dir, db)
}

fn count_stores(conn: &Connection) -> Result<(i64, std::thread::ThreadId), DbError> {
    let n = conn.query_row("SELECT count(*) FROM stores", [], |r| r.get(0))?;
    Ok((n, std::thread::current().id()))
}

#[tokio::test(flavor = "current_thread")]
async fn reads_run_here_once_the_thread_has_a_reader_and_see_every_commit() {
    let (_dir, db) = fresh_db();
    let here = std::thread::current().id();

    let (_, pooled_on) = db.read(count_stores).await.unwrap();
    assert_ne!(
        pooled_on, here,
        "without a reader of its own, the pool serves"
    );

    db.attach_local_reader().unwrap();
    db.attach_local_reader().unwrap(); // a second call keeps the one connection
    for n in 1..=3 {
        db.write(move |tx| {
            tx.execute(
                "INSERT INTO stores (code, name) VALUES (?1, 'S')",
                [format!("s{n}")],
            )
            .map_err(DbError::from)
        })
        .await
        .unwrap();
        let (count, ran_on) = db.read(count_stores).await.unwrap();
        assert_eq!((count, ran_on), (n, here));
        let (count, pooled_on) = db.read_pooled(count_stores).await.unwrap();
        assert_eq!(count, n);
        assert_ne!(pooled_on, here);
    }
    LOCAL_READERS.with_borrow(|readers| assert_eq!(readers.len(), 1));
}

#[tokio::test(flavor = "current_thread")]
async fn a_read_sees_one_snapshot_and_never_keeps_it() {
    let (_dir, db) = fresh_db();
    db.attach_local_reader().unwrap();
    let writer = db.clone();
    let insert = move |code: &'static str| {
        // The writer has its own thread: waiting here for its commit is fine.
        let write = writer.write(move |tx| {
            tx.execute("INSERT INTO stores (code, name) VALUES (?1, 'S')", [code])
                .map_err(DbError::from)
        });
        std::thread::scope(|s| {
            let runtime = tokio::runtime::Builder::new_current_thread().build();
            s.spawn(|| runtime.unwrap().block_on(write)).join().unwrap()
        })
        .unwrap();
    };
    for pooled in [false, true] {
        let (before, after) = {
            let insert = insert.clone();
            let read = move |conn: &Connection| {
                let before = count_stores(conn)?.0;
                insert(if pooled { "p" } else { "l" });
                Ok::<_, DbError>((before, count_stores(conn)?.0))
            };
            if pooled {
                db.read_pooled(read).await.unwrap()
            } else {
                db.read(read).await.unwrap()
            }
        };
        assert_eq!(before, after, "a commit during a read is not seen by it");
        let (now, _) = db.read(count_stores).await.unwrap();
        assert_eq!(now, after + 1, "the next read sees it");
    }
    // A read that panics midway leaves no transaction open behind it.
    let panicked = db.read(|conn| {
        count_stores(conn)?;
        if conn.is_autocommit() {
            return Ok::<_, DbError>(());
        }
        panic!("a read that panics")
    });
    let caught = AssertUnwindSafe(panicked).catch_unwind().await;
    assert!(caught.is_err());
    insert("after");
    let (now, _) = db.read(count_stores).await.unwrap();
    assert_eq!(now, 3);
    LOCAL_READERS.with_borrow(|readers| assert!(readers[0].1.is_autocommit()));
}

#[derive(Debug)]
enum WriteError {
    #[allow(dead_code)] // read through Debug when a test fails
    Db(DbError),
    Refused,
}

impl From<DbError> for WriteError {
    fn from(e: DbError) -> Self {
        WriteError::Db(e)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_queued_behind_a_busy_writer_share_its_next_commit_and_a_failed_one_leaves_no_trace()
{
    let (_dir, db) = fresh_db();
    // Holds the writer while the others queue up behind it, so they share one transaction.
    let (release, hold) = std::sync::mpsc::channel::<()>();
    let blocker = {
        let db = db.clone();
        tokio::spawn(async move {
            db.write(move |_| {
                hold.recv().ok();
                Ok::<_, WriteError>(())
            })
            .await
        })
    };
    let mut writes = Vec::new();
    for n in 0..40 {
        let db = db.clone();
        writes.push(tokio::spawn(async move {
            db.write(move |tx| {
                tx.execute(
                    "INSERT INTO stores (code, name) VALUES (?1, 'S')",
                    [format!("s{n}")],
                )
                .map_err(DbError::from)?;
                match n % 10 {
                    3 => Err(WriteError::Refused),
                    7 if n == 7 => panic!("a write that panics"),
                    _ => Ok(n),
                }
            })
            .await
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    release.send(()).unwrap();
    blocker.await.unwrap().unwrap();

    let mut kept = 0;
    for (n, write) in writes.into_iter().enumerate() {
        match write.await {
            Ok(Ok(m)) => {
                assert_eq!(m, n);
                kept += 1;
            }
            Ok(Err(WriteError::Refused)) => assert_eq!(n % 10, 3),
            Ok(Err(e)) => panic!("write {n}: {e:?}"),
            Err(join) => assert!(join.is_panic() && n == 7, "write {n}: {join:?}"),
        }
    }
    assert_eq!(kept, 40 - 4 - 1);
    let (stored, _) = db.read_pooled(count_stores).await.unwrap();
    assert_eq!(
        stored, kept as i64,
        "refused and panicked writes are rolled back"
    );
    let refused: i64 = db
        .read_pooled(|c| {
            c.query_row(
                "SELECT count(*) FROM stores WHERE code IN ('s3', 's7', 's13')",
                [],
                |r| r.get(0),
            )
            .map_err(DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(refused, 0);
    // The writer keeps serving after all that.
    db.write(|tx| {
        tx.execute("INSERT INTO stores (code, name) VALUES ('after', 'S')", [])
            .map_err(DbError::from)
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_alone_in_its_batch_that_fails_or_panics_leaves_no_trace() {
    let (_dir, db) = fresh_db();
    let insert = |code: &'static str, outcome: u8| {
        let db = db.clone();
        async move {
            db.write(move |tx| {
                tx.execute("INSERT INTO stores (code, name) VALUES (?1, 'S')", [code])
                    .map_err(DbError::from)?;
                match outcome {
                    0 => Ok(()),
                    1 => Err(WriteError::Refused),
                    _ => panic!("a write that panics"),
                }
            })
            .await
        }
    };
    // One at a time, each awaited: every one is alone in its transaction.
    insert("kept-1", 0).await.unwrap();
    assert!(matches!(
        insert("refused", 1).await,
        Err(WriteError::Refused)
    ));
    let panicked = AssertUnwindSafe(insert("panicked", 2)).catch_unwind().await;
    assert!(panicked.is_err());
    insert("kept-2", 0).await.unwrap();

    let codes: Vec<String> = db
        .read_pooled(|c| {
            c.prepare("SELECT code FROM stores ORDER BY code")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(codes, ["kept-1", "kept-2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_external_checkpoints_no_connection_of_ours_ever_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    let db = Db::open(&path, 1, Checkpoints::External, |_| Ok(())).unwrap();
    db.write(|tx| {
        tx.execute_batch("CREATE TABLE filler (data BLOB NOT NULL)")
            .map_err(DbError::from)
    })
    .await
    .unwrap();
    // Past SQLite's own autocheckpoint (1,000 pages) and the checkpointer's first passes.
    for _ in 0..60 {
        db.write(|tx| {
            tx.execute("INSERT INTO filler (data) VALUES (zeroblob(100000))", [])
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let wal = wal_path(&path);
    let before_close = std::fs::metadata(&wal).unwrap().len();
    assert!(
        before_close > 1500 * 4096,
        "the WAL holds {before_close} bytes"
    );
    // The database file has not grown: nothing was copied back.
    let db_file = std::fs::metadata(&path).unwrap().len();
    assert!(db_file < 2 * 1024 * 1024, "parley.db is {db_file} bytes");
    // Closing the last connection leaves the WAL as it is for the tool that owns it.
    drop(db);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), before_close);

    // Parley's own mode copies it back (and the last close removes it).
    let db = Db::open(&path, 1, Checkpoints::Parley, |_| Ok(())).unwrap();
    let rows: i64 = db
        .read_pooled(|c| {
            c.query_row("SELECT count(*) FROM filler", [], |r| r.get(0))
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(rows, 60);
}
