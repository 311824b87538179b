//! Generates include/kafka_instance.h from the Rust sources with cbindgen.
//!
//! The header is committed. It is written into include/ only when its
//! content changes (so builds do not dirty the tree), and always into
//! OUT_DIR, where tests/header.rs compares it with the committed copy.

use std::path::{Path, PathBuf};

// The handles and the header's sections (shared with the crate and the
// tests).
include!("src/ffi/handles.rs");

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
    let mut text = Vec::new();
    bindings.write(&mut text);
    let text = String::from_utf8(text).expect("cbindgen writes UTF-8");
    let text = in_sections(&text, &version()).unwrap_or_else(|e| panic!("{e}"));
    let generated = out_dir.join("kafka_instance.h");
    std::fs::write(&generated, text).expect("OUT_DIR is writable");
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

/// The crate's version: (major, minor, patch).
fn version() -> [u32; 3] {
    ["MAJOR", "MINOR", "PATCH"].map(|part| {
        std::env::var(format!("CARGO_PKG_VERSION_{part}"))
            .ok()
            .and_then(|v| v.parse().ok())
            .expect("cargo sets the version")
    })
}

fn read(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

/// The header cbindgen wrote, rearranged into the sections of `SECTIONS`:
/// each opens with its title and paragraph (a doxygen group), then its
/// types in cbindgen's order (which declares what a type uses first), then
/// its functions in the order of the section's members. The opaque handles
/// are declared in the first section, so that any section may use them.
/// Adds the version macros and the deprecation marker. Fails, naming it,
/// when an item belongs to no section.
fn in_sections(generated: &str, version: &[u32; 3]) -> Result<String, String> {
    let body_start = generated
        .rfind("#include <")
        .and_then(|i| generated[i..].find('\n').map(|n| i + n + 1))
        .ok_or("cbindgen wrote no #include")?;
    let body_end = generated.rfind("#endif").ok_or("no include guard")?;
    // cbindgen's `extern "C"` block, opened and closed by three lines each:
    // left out here, written again around each section's functions.
    let lines: Vec<&str> = generated[body_start..body_end].lines().collect();
    let mut kept = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let wrapper = lines[i].starts_with("#ifdef __cplusplus")
            && lines.get(i + 1).is_some_and(|l| {
                l.starts_with("extern \"C\" {") || l.starts_with("}  // extern \"C\"")
            })
            && lines.get(i + 2).is_some_and(|l| l.starts_with("#endif"));
        match wrapper {
            true => i += 3,
            false => {
                kept.push(lines[i]);
                i += 1;
            }
        }
    }
    let body = kept.join("\n");
    let mut types: Vec<Vec<(String, String)>> = SECTIONS.iter().map(|_| Vec::new()).collect();
    let mut functions: Vec<Vec<(usize, usize, String)>> =
        types.iter().map(|_| Vec::new()).collect();
    for (order, item) in items(&body)?.into_iter().enumerate() {
        let (name, is_function, opaque) = declared(&item)?;
        let section = match opaque {
            true => 0,
            false => section_of(&name).ok_or_else(|| {
                format!("build.rs: `{name}` is in no section of the header: add it to SECTIONS in src/ffi/handles.rs")
            })?,
        };
        if is_function {
            let rank = SECTIONS[section]
                .members
                .iter()
                .position(|m| match_len(m, &name).is_some())
                .unwrap_or(usize::MAX);
            functions[section].push((rank, order, item));
        } else {
            types[section].push((name, item));
        }
    }
    let mut out = generated[..body_start].to_owned();
    let [major, minor, patch] = *version;
    out.push_str(&format!(
        r#"
/**
 * @defgroup version Version macros
 * The version of this header, at compile time (kafka_instance_version()
 * gives the library's at run time): KAFKA_INSTANCE_VERSION_NUM is
 * major * 10000 + minor * 100 + patch.
 * @{{
 */
#define KAFKA_INSTANCE_VERSION_MAJOR {major}
#define KAFKA_INSTANCE_VERSION_MINOR {minor}
#define KAFKA_INSTANCE_VERSION_PATCH {patch}
#define KAFKA_INSTANCE_VERSION_NUM {num}

/**
 * Marks a declaration deprecated: a program that uses it compiles, with a
 * warning that quotes `msg` (what to use instead). Nothing is deprecated
 * yet; a deprecated call keeps working for at least one minor release.
 */
#if defined(__cplusplus) && __cplusplus >= 201402L
#define KAFKA_DEPRECATED(msg) [[deprecated(msg)]]
#elif defined(__GNUC__) || defined(__clang__)
#define KAFKA_DEPRECATED(msg) __attribute__((deprecated(msg)))
#elif defined(_MSC_VER)
#define KAFKA_DEPRECATED(msg) __declspec(deprecated(msg))
#else
#define KAFKA_DEPRECATED(msg)
#endif
/** @}} */
"#,
        num = major * 10000 + minor * 100 + patch
    ));
    for (i, section) in SECTIONS.iter().enumerate() {
        let intro = wrap(section.intro, 72);
        out.push_str(&format!(
            "\n/* {rule}\n * {n}. {title}\n * {rule2} */\n\n/**\n * @defgroup {group} {title}\n{intro} * @{{\n */\n",
            rule = "=".repeat(70),
            rule2 = "=".repeat(68),
            n = i + 1,
            title = section.title,
            group = section.group,
        ));
        for (_, item) in &types[i] {
            out.push('\n');
            out.push_str(item);
            out.push('\n');
        }
        let mut fns = std::mem::take(&mut functions[i]);
        fns.sort_by_key(|(rank, order, _)| (*rank, *order));
        if !fns.is_empty() {
            out.push_str("\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
            for (_, _, item) in &fns {
                out.push('\n');
                out.push_str(item);
                out.push('\n');
            }
            out.push_str("\n#ifdef __cplusplus\n}  /* extern \"C\" */\n#endif\n");
        }
        out.push_str("\n/** @} */\n");
    }
    out.push('\n');
    out.push_str(&generated[body_end..]);
    Ok(out)
}

/// ` * `-prefixed lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            out.push_str(&format!(" * {line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!(" * {line}\n"));
    }
    out
}

/// The header's items: each declaration with the doc comment above it.
/// Fails on anything left over (a comment with no declaration, an item
/// this reading does not end), rather than dropping it.
fn items(body: &str) -> Result<Vec<String>, String> {
    let (mut items, mut current) = (Vec::new(), Vec::<&str>::new());
    let (mut in_comment, mut depth) = (false, 0i32);
    for line in body.lines() {
        if current.is_empty() && line.trim().is_empty() {
            continue;
        }
        current.push(line);
        let t = line.trim();
        if in_comment {
            in_comment = !t.ends_with("*/");
            continue;
        }
        if t.starts_with("/*") && !t.ends_with("*/") {
            in_comment = true;
            continue;
        }
        if t.starts_with("/*") || t.starts_with("//") {
            continue;
        }
        depth += t.matches('{').count() as i32 - t.matches('}').count() as i32;
        if depth == 0 && (t.ends_with(';') || t.starts_with("#define")) {
            items.push(current.join("\n"));
            current.clear();
        }
    }
    match current.is_empty() && depth == 0 && !in_comment {
        true => Ok(items),
        false => Err(format!(
            "build.rs: the header ends inside an item it cannot place: {}",
            current.join("\n")
        )),
    }
}

/// An item's name, whether it is a function, and whether it is an opaque
/// handle's typedef.
fn declared(item: &str) -> Result<(String, bool, bool), String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let decl = item
        .lines()
        .find(|l| {
            let t = l.trim_start();
            !(t.starts_with("/*") || t.starts_with('*') || t.starts_with("//"))
        })
        .ok_or_else(|| format!("build.rs: an item with no declaration: {item}"))?;
    if let Some(rest) = decl.strip_prefix("#define ") {
        return Ok((ident(rest), false, false));
    }
    if let Some(rest) = decl
        .strip_prefix("typedef struct ")
        .or(decl.strip_prefix("typedef enum "))
    {
        let name = ident(rest);
        let opaque = decl.trim_end() == format!("typedef struct {name} {name};");
        return Ok((name, false, opaque));
    }
    if decl.starts_with("typedef ") {
        // A function pointer: typedef R (*Name)(...);
        let at = decl
            .find("(*")
            .ok_or_else(|| format!("build.rs: unknown typedef: {decl}"))?;
        return Ok((ident(&decl[at + 2..]), false, false));
    }
    let at = decl
        .find('(')
        .ok_or_else(|| format!("build.rs: unknown item: {decl}"))?;
    let before = &decl[..at];
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    Ok((before[start..].to_owned(), true, false))
}
