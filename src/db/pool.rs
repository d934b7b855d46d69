//! A fixed set of read-only connections. A caller blocks (on the blocking pool) until one is free.

use std::ops::Deref;
use std::sync::{Condvar, Mutex};

use rusqlite::Connection;

pub(super) struct Pool {
    idle: Mutex<Vec<Connection>>,
    returned: Condvar,
}

pub(super) struct Lease<'a> {
    pool: &'a Pool,
    conn: Option<Connection>,
}

impl Pool {
    pub(super) fn new(connections: Vec<Connection>) -> Pool {
        Pool {
            idle: Mutex::new(connections),
            returned: Condvar::new(),
        }
    }

    pub(super) fn get(&self) -> Lease<'_> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(conn) = idle.pop() {
                return Lease {
                    pool: self,
                    conn: Some(conn),
                };
            }
            idle = self.returned.wait(idle).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Deref for Lease<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Always Some until drop.
        self.conn.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut idle = self.pool.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.push(conn);
            self.pool.returned.notify_one();
        }
    }
}
