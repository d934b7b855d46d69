// The SQL migrations are embedded by a macro, which cargo cannot see reading the folder: this
// makes a new or changed migration rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
