//! NULL cases of the instance's own functions and of the embedded
//! (mock) cluster.

use super::*;

pub(crate) fn instance_cases(v: &mut Vec<Case>) {
    case!(v, kafka_instance_new, || unsafe {
        let mut e = err();
        let inst = kafka_instance_new(null(), &mut e);
        assert!(inst.is_null());
        invalid(e.code, &e, "cfg");
        assert!(kafka_instance_new(null(), null_mut()).is_null());
    });
    case!(v, kafka_instance_free, || unsafe {
        kafka_instance_free(null_mut())
    });
    case!(v, kafka_instance_create_topic, || with_instance(
        |inst| unsafe {
            let t = c("t");
            let mut e = err();
            invalid(
                kafka_instance_create_topic(null_mut(), t.as_ptr(), 1, 1, 10, &mut e),
                &e,
                "inst",
            );
            invalid(
                kafka_instance_create_topic(inst, null(), 1, 1, 10, &mut e),
                &e,
                "topic",
            );
        }
    ));
    case!(v, kafka_instance_delete_topic, || with_instance(
        |inst| unsafe {
            let t = c("t");
            let mut e = err();
            invalid(
                kafka_instance_delete_topic(null_mut(), t.as_ptr(), 10, &mut e),
                &e,
                "inst",
            );
            invalid(
                kafka_instance_delete_topic(inst, null(), 10, &mut e),
                &e,
                "topic",
            );
        }
    ));
    case!(v, kafka_instance_list_topics, || unsafe {
        let mut e = err();
        invalid(
            kafka_instance_list_topics(null_mut(), 10, null_mut(), 0, null_mut(), &mut e),
            &e,
            "inst",
        );
    });
}

pub(crate) fn mock_cluster_cases(v: &mut Vec<Case>) {
    case!(v, kafka_mock_cluster_new, || unsafe {
        // The only pointer is err.
        let mc = kafka_mock_cluster_new(1, null_mut());
        assert!(!mc.is_null());
        kafka_mock_cluster_free(mc);
    });
    case!(v, kafka_mock_cluster_bootstrap_servers, || assert!(
        unsafe { kafka_mock_cluster_bootstrap_servers(null()) }.is_null()
    ));
    case!(v, kafka_mock_cluster_create_topic, || unsafe {
        let mut e = err();
        let mc = kafka_mock_cluster_new(1, null_mut());
        invalid(
            kafka_mock_cluster_create_topic(null_mut(), c("t").as_ptr(), 1, 1, &mut e),
            &e,
            "mc",
        );
        invalid(
            kafka_mock_cluster_create_topic(mc, null(), 1, 1, &mut e),
            &e,
            "topic",
        );
        kafka_mock_cluster_free(mc);
    });
    case!(v, kafka_mock_cluster_broker_down, || unsafe {
        let mut e = err();
        invalid(
            kafka_mock_cluster_broker_down(null_mut(), 1, &mut e),
            &e,
            "mc",
        );
    });
    case!(v, kafka_mock_cluster_broker_up, || unsafe {
        let mut e = err();
        invalid(
            kafka_mock_cluster_broker_up(null_mut(), 1, &mut e),
            &e,
            "mc",
        );
    });
    case!(v, kafka_mock_cluster_push_request_errors, || unsafe {
        let mut e = err();
        let codes = [6];
        invalid(
            kafka_mock_cluster_push_request_errors(null_mut(), 0, codes.as_ptr(), 1, &mut e),
            &e,
            "mc",
        );
        let mc = kafka_mock_cluster_new(1, null_mut());
        invalid(
            kafka_mock_cluster_push_request_errors(mc, 0, null(), 1, &mut e),
            &e,
            "errors",
        );
        assert_eq!(
            kafka_mock_cluster_push_request_errors(mc, 0, null(), 0, &mut e),
            KAFKA_OK
        );
        kafka_mock_cluster_free(mc);
    });
    case!(v, kafka_mock_cluster_clear_request_errors, || unsafe {
        let mut e = err();
        invalid(
            kafka_mock_cluster_clear_request_errors(null_mut(), 0, &mut e),
            &e,
            "mc",
        );
    });
    case!(v, kafka_mock_cluster_set_round_trip_time, || unsafe {
        let mut e = err();
        invalid(
            kafka_mock_cluster_set_round_trip_time(null_mut(), 1, 10, &mut e),
            &e,
            "mc",
        );
    });
    case!(v, kafka_mock_cluster_partition_set_leader, || unsafe {
        let mut e = err();
        let t = c("t");
        invalid(
            kafka_mock_cluster_partition_set_leader(null_mut(), t.as_ptr(), 0, 1, &mut e),
            &e,
            "mc",
        );
        let mc = kafka_mock_cluster_new(1, &mut e);
        invalid(
            kafka_mock_cluster_partition_set_leader(mc, null(), 0, 1, &mut e),
            &e,
            "topic",
        );
        kafka_mock_cluster_free(mc);
    });
    case!(v, kafka_mock_cluster_free, || unsafe {
        kafka_mock_cluster_free(null_mut())
    });
}
