//! Version strings.

use std::ffi::{c_char, CString};
use std::sync::OnceLock;

use crate::ffi::{call_infallible, Site};

/// Gives this library's version, such as `"0.1.0"`.
///
/// @return A static string.
#[no_mangle]
pub extern "C" fn kafka_instance_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Gives the version of the librdkafka built into this library, such as
/// `"2.12.1"`.
///
/// @return A static string.
#[no_mangle]
pub extern "C" fn kafka_instance_librdkafka_version() -> *const c_char {
    static VERSION: OnceLock<CString> = OnceLock::new();
    call_infallible(
        Site::given("kafka_instance.version.librdkafka", "Kafka Instance"),
        || {
            VERSION
                .get_or_init(|| {
                    CString::new(rdkafka::util::get_rdkafka_version().1).unwrap_or_default()
                })
                .as_ptr()
        },
    )
}
