//! `KafkaPartitionList` through the C ABI: building one, reading it back,
//! and what it refuses.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::ffi::CStr;
use std::ptr::null_mut;

fn add(list: *mut KafkaPartitionList, topic: &str, partition: i32, offset: i64) -> KafkaErrorCode {
    let mut e = err();
    let rc =
        unsafe { kafka_partition_list_add(list, c(topic).as_ptr(), partition, offset, &mut e) };
    assert_eq!(e.code, rc);
    rc
}

#[test]
fn kafka_partition_list_add_get_and_count_give_back_what_was_added() {
    let list = kafka_partition_list_new();
    assert!(!list.is_null());
    assert_eq!(add(list, "orders", 0, 5), KAFKA_OK);
    assert_eq!(add(list, "orders", 1, KAFKA_OFFSET_BEGINNING), KAFKA_OK);
    assert_eq!(add(list, "payments", 0, KAFKA_OFFSET_END), KAFKA_OK);
    assert_eq!(add(list, "payments", 3, KAFKA_OFFSET_COMMITTED), KAFKA_OK);
    unsafe {
        assert_eq!(kafka_partition_list_count(list), 4);
        let expected = [
            ("orders", 0, 5),
            ("orders", 1, KAFKA_OFFSET_BEGINNING),
            ("payments", 0, KAFKA_OFFSET_END),
            ("payments", 3, KAFKA_OFFSET_COMMITTED),
        ];
        for (i, (topic, partition, offset)) in expected.into_iter().enumerate() {
            let item = &*kafka_partition_list_get(list, i);
            assert_eq!(CStr::from_ptr(item.topic).to_str(), Ok(topic));
            assert_eq!((item.partition, item.offset), (partition, offset));
            // Only lag answers fill the rest.
            assert_eq!(item.lag, KAFKA_OFFSET_NONE);
            assert_eq!(item.high_watermark, KAFKA_OFFSET_NONE);
        }
        assert!(kafka_partition_list_get(list, 4).is_null());
        kafka_partition_list_free(list);
    }
}

#[test]
fn kafka_partition_list_add_refuses_bad_partitions_offsets_and_topics() {
    let list = kafka_partition_list_new();
    for (topic, partition, offset) in [
        ("orders", -1, 0),
        ("orders", 0, -3),
        ("orders", 0, KAFKA_OFFSET_NONE),
        ("", 0, 0),
        ("no spaces", 0, 0),
    ] {
        assert_eq!(
            add(list, topic, partition, offset),
            KAFKA_ERR_INVALID_ARGUMENT,
            "{topic:?} {partition} {offset}"
        );
    }
    let mut e = err();
    unsafe {
        assert_eq!(kafka_partition_list_count(list), 0, "nothing was added");
        let rc = kafka_partition_list_add(list, std::ptr::null(), 0, 0, &mut e);
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        let rc = kafka_partition_list_add(null_mut(), c("t").as_ptr(), 0, 0, &mut e);
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        assert_eq!(kafka_partition_list_count(std::ptr::null()), 0);
        assert!(kafka_partition_list_get(std::ptr::null(), 0).is_null());
        kafka_partition_list_free(list);
        kafka_partition_list_free(null_mut());
    }
}
