//! Generates include/kafka_instance.h from the Rust sources with cbindgen.
//!
//! The header is committed. It is written into include/ only when its
//! content changes (so builds do not dirty the tree), and always into
//! OUT_DIR, where tests/header.rs compares it with the committed copy.

use std::path::{Path, PathBuf};

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable and valid");
    let bindings = match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(b) => b,
        Err(e) => {
            // A syntax error in src/ is reported by rustc itself, better.
            println!("cargo:warning=cbindgen could not generate the header: {e}");
            return;
        }
    };
    let generated = out_dir.join("kafka_instance.h");
    bindings.write_to_file(&generated);
    println!(
        "cargo:rustc-env=KAFKA_INSTANCE_GENERATED_HEADER={}",
        generated.display()
    );
    let committed = crate_dir.join("include").join("kafka_instance.h");
    if read(&committed) != read(&generated) {
        std::fs::create_dir_all(committed.parent().unwrap()).unwrap();
        std::fs::copy(&generated, &committed).expect("include/ is writable");
    }

    // The shared library's soname, so that programs link against the ABI
    // major version: libkafka_instance.so.0. Beside the built library, a
    // link of that name, so that a program linked with
    // `-L target/release -lkafka_instance` also starts from the build tree
    // (with LD_LIBRARY_PATH or an rpath); an install makes its own links.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libkafka_instance.so.0");
        // OUT_DIR is <target>/<profile>/build/<package>-<hash>/out.
        if let Some(profile_dir) = out_dir.ancestors().nth(3) {
            let link = profile_dir.join("libkafka_instance.so.0");
            if std::fs::read_link(&link).is_err() {
                let _ = std::os::unix::fs::symlink("libkafka_instance.so", &link);
            }
        }
    }
}

fn read(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}
