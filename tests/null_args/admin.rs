//! NULL cases of the admin calls: cluster and topic descriptions,
//! groups, topic configuration.

use super::*;

pub(crate) fn cluster_cases(v: &mut Vec<Case>) {
    case!(v, kafka_instance_describe_cluster, || with_instance(
        |inst| unsafe {
            let (mut out, mut e) = (null_mut(), err());
            invalid(
                kafka_instance_describe_cluster(null(), 10, &mut out, &mut e),
                &e,
                "inst",
            );
            invalid(
                kafka_instance_describe_cluster(inst, 10, null_mut(), &mut e),
                &e,
                "out",
            );
        }
    ));
    case!(v, kafka_instance_describe_topic, || with_instance(
        |inst| unsafe {
            let (mut out, mut e, t) = (null_mut(), err(), c("t"));
            let rc = kafka_instance_describe_topic(null(), t.as_ptr(), 10, &mut out, &mut e);
            invalid(rc, &e, "inst");
            let rc = kafka_instance_describe_topic(inst, null(), 10, &mut out, &mut e);
            invalid(rc, &e, "topic");
            let rc = kafka_instance_describe_topic(inst, t.as_ptr(), 10, null_mut(), &mut e);
            invalid(rc, &e, "out");
        }
    ));
    case!(v, kafka_cluster_id, || assert!(unsafe {
        kafka_cluster_id(null())
    }
    .is_null()));
    case!(v, kafka_cluster_broker_count, || assert_eq!(
        unsafe { kafka_cluster_broker_count(null()) },
        0
    ));
    case!(v, kafka_cluster_broker, || assert!(unsafe {
        kafka_cluster_broker(null(), 0)
    }
    .is_null()));
    case!(v, kafka_cluster_partition_count, || assert_eq!(
        unsafe { kafka_cluster_partition_count(null()) },
        0
    ));
    case!(v, kafka_cluster_partition, || assert!(unsafe {
        kafka_cluster_partition(null(), 0)
    }
    .is_null()));
    case!(v, kafka_cluster_free, || unsafe {
        kafka_cluster_free(null_mut())
    });
}

pub(crate) fn group_list_cases(v: &mut Vec<Case>) {
    case!(v, kafka_instance_list_groups, || with_instance(
        |inst| unsafe {
            let (mut out, mut e) = (null_mut(), err());
            invalid(
                kafka_instance_list_groups(null(), 10, &mut out, &mut e),
                &e,
                "inst",
            );
            invalid(
                kafka_instance_list_groups(inst, 10, null_mut(), &mut e),
                &e,
                "out",
            );
        }
    ));
    case!(v, kafka_instance_describe_group, || with_instance(
        |inst| unsafe {
            let (mut out, mut e, g) = (null_mut(), err(), c("g"));
            let rc = kafka_instance_describe_group(null(), g.as_ptr(), 10, &mut out, &mut e);
            invalid(rc, &e, "inst");
            let rc = kafka_instance_describe_group(inst, null(), 10, &mut out, &mut e);
            invalid(rc, &e, "group");
            let rc = kafka_instance_describe_group(inst, g.as_ptr(), 10, null_mut(), &mut e);
            invalid(rc, &e, "out");
        }
    ));
    type GroupAnswer = unsafe extern "C" fn(
        *const KafkaInstance,
        *const c_char,
        *const KafkaPartitionList,
        i32,
        *mut *mut KafkaPartitionList,
        *mut KafkaError,
    ) -> KafkaErrorCode;
    fn answers(f: GroupAnswer) {
        with_instance(|inst| unsafe {
            let (mut out, mut e, g) = (null_mut(), err(), c("g"));
            invalid(
                f(null(), g.as_ptr(), null(), 10, &mut out, &mut e),
                &e,
                "inst",
            );
            invalid(f(inst, null(), null(), 10, &mut out, &mut e), &e, "group");
            invalid(
                f(inst, g.as_ptr(), null(), 10, null_mut(), &mut e),
                &e,
                "out",
            );
        })
    }
    case!(v, kafka_instance_group_offsets, || answers(
        kafka_instance_group_offsets
    ));
    case!(v, kafka_instance_group_lag, || answers(
        kafka_instance_group_lag
    ));
    case!(v, kafka_instance_delete_group, || with_instance(
        |inst| unsafe {
            let mut e = err();
            let g = c("g");
            invalid(
                kafka_instance_delete_group(null(), g.as_ptr(), 10, &mut e),
                &e,
                "inst",
            );
            invalid(
                kafka_instance_delete_group(inst, null(), 10, &mut e),
                &e,
                "group",
            );
        }
    ));
    case!(v, kafka_group_list_count, || assert_eq!(
        unsafe { kafka_group_list_count(null()) },
        0
    ));
    case!(v, kafka_group_list_get, || assert!(unsafe {
        kafka_group_list_get(null(), 0)
    }
    .is_null()));
    case!(v, kafka_group_list_free, || unsafe {
        kafka_group_list_free(null_mut())
    });
    case!(v, kafka_instance_create_partitions, || with_instance(
        |inst| unsafe {
            let mut e = err();
            let t = c("t");
            let rc = kafka_instance_create_partitions(null(), t.as_ptr(), 2, 10, &mut e);
            invalid(rc, &e, "inst");
            invalid(
                kafka_instance_create_partitions(inst, null(), 2, 10, &mut e),
                &e,
                "topic",
            );
        }
    ));
    case!(v, kafka_instance_delete_records, || with_instance(
        |inst| unsafe {
            let mut e = err();
            let t = c("t");
            let rc =
                kafka_instance_delete_records(null(), t.as_ptr(), 0, 1, 10, null_mut(), &mut e);
            invalid(rc, &e, "inst");
            let rc = kafka_instance_delete_records(inst, null(), 0, 1, 10, null_mut(), &mut e);
            invalid(rc, &e, "topic");
        }
    ));
}

pub(crate) fn topic_config_cases(v: &mut Vec<Case>) {
    case!(v, kafka_instance_describe_topic_config, || with_instance(
        |inst| unsafe {
            let (mut out, mut e, t) = (null_mut(), err(), c("t"));
            let rc = kafka_instance_describe_topic_config(null(), t.as_ptr(), 10, &mut out, &mut e);
            invalid(rc, &e, "inst");
            let rc = kafka_instance_describe_topic_config(inst, null(), 10, &mut out, &mut e);
            invalid(rc, &e, "topic");
            let rc = kafka_instance_describe_topic_config(inst, t.as_ptr(), 10, null_mut(), &mut e);
            invalid(rc, &e, "out");
        }
    ));
    case!(v, kafka_instance_alter_topic_config, || with_instance(
        |inst| unsafe {
            let (mut e, t, k) = (err(), c("t"), c("retention.ms"));
            let keys = [k.as_ptr()];
            let values = [null()];
            let alter = |i, t, k, v, e: &mut KafkaError| {
                kafka_instance_alter_topic_config(i, t, k, v, 1, 10, e)
            };
            invalid(
                alter(null(), t.as_ptr(), keys.as_ptr(), values.as_ptr(), &mut e),
                &e,
                "inst",
            );
            invalid(
                alter(inst, null(), keys.as_ptr(), values.as_ptr(), &mut e),
                &e,
                "topic",
            );
            invalid(
                alter(inst, t.as_ptr(), null(), values.as_ptr(), &mut e),
                &e,
                "keys",
            );
            invalid(
                alter(inst, t.as_ptr(), keys.as_ptr(), null(), &mut e),
                &e,
                "values",
            );
            let null_key = [null()];
            invalid(
                alter(inst, t.as_ptr(), null_key.as_ptr(), values.as_ptr(), &mut e),
                &e,
                "keys[i]",
            );
        }
    ));
    case!(v, kafka_topic_config_count, || assert_eq!(
        unsafe { kafka_topic_config_count(null()) },
        0
    ));
    case!(v, kafka_topic_config_get, || assert!(unsafe {
        kafka_topic_config_get(null(), 0)
    }
    .is_null()));
    case!(v, kafka_topic_config_value, || assert!(unsafe {
        kafka_topic_config_value(null(), null())
    }
    .is_null()));
    case!(v, kafka_topic_config_free, || unsafe {
        kafka_topic_config_free(null_mut())
    });
}
