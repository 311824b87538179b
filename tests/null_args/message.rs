//! NULL cases of the partition list and message functions.

use super::*;

pub(crate) fn partition_list_cases(v: &mut Vec<Case>) {
    case!(v, kafka_partition_list_new, || unsafe {
        kafka_partition_list_free(kafka_partition_list_new())
    });
    case!(v, kafka_partition_list_add, || unsafe {
        let list = kafka_partition_list_new();
        let t = c("t");
        let mut e = err();
        invalid(
            kafka_partition_list_add(null_mut(), t.as_ptr(), 0, 0, &mut e),
            &e,
            "list",
        );
        invalid(
            kafka_partition_list_add(list, null(), 0, 0, &mut e),
            &e,
            "topic",
        );
        kafka_partition_list_free(list);
    });
    case!(v, kafka_partition_list_count, || assert_eq!(
        unsafe { kafka_partition_list_count(null()) },
        0
    ));
    case!(v, kafka_partition_list_get, || assert!(unsafe {
        kafka_partition_list_get(null(), 0)
    }
    .is_null()));
    case!(v, kafka_partition_list_free, || unsafe {
        kafka_partition_list_free(null_mut())
    });
}

pub(crate) fn message_cases(v: &mut Vec<Case>) {
    case!(v, kafka_message_header_last, || assert!(!unsafe {
        kafka_message_header_last(null(), c("h").as_ptr(), null_mut(), null_mut())
    }));
    case!(v, kafka_message_topic, || assert!(unsafe {
        kafka_message_topic(null())
    }
    .is_null()));
    case!(v, kafka_message_partition, || assert_eq!(
        unsafe { kafka_message_partition(null()) },
        -1
    ));
    case!(v, kafka_message_offset, || assert_eq!(
        unsafe { kafka_message_offset(null()) },
        -1
    ));
    case!(v, kafka_message_timestamp, || assert_eq!(
        unsafe { kafka_message_timestamp(null()) },
        -1
    ));
    case!(v, kafka_message_key, || unsafe {
        let mut len = 9usize;
        assert!(kafka_message_key(null(), &mut len).is_null());
        assert_eq!(len, 0);
        assert!(kafka_message_key(null(), null_mut()).is_null());
    });
    case!(v, kafka_message_value, || unsafe {
        let mut len = 9usize;
        assert!(kafka_message_value(null(), &mut len).is_null());
        assert_eq!(len, 0);
    });
    case!(v, kafka_message_header_count, || assert_eq!(
        unsafe { kafka_message_header_count(null()) },
        0
    ));
    case!(v, kafka_message_header, || assert!(!unsafe {
        kafka_message_header(null(), 0, null_mut(), null_mut(), null_mut())
    }));
    case!(v, kafka_message_free, || unsafe {
        kafka_message_free(null_mut())
    });
}
