//! Subscriptions: patterns, replacing and listing them.

use super::*;

#[test]
fn kafka_consumer_subscribe_takes_patterns_and_subscription_lists_them() {
    for broker in brokers() {
        let prefix = unique_topic("rx");
        let (a, b) = (format!("{prefix}-a"), format!("{prefix}-b"));
        create_topic(&broker, &a, 1);
        create_topic(&broker, &b, 1);
        let inst = instance(
            &broker,
            &[
                ("group_id", &unique_topic("g")),
                ("auto_offset_reset", "earliest"),
            ],
        );
        produce_unbatched(inst, &a, 0, 1);
        produce_unbatched(inst, &b, 1, 1);
        let pattern = format!("^{prefix}-.*");
        // Accepted at creation...
        let cons = consumer(inst, &[&pattern], &[]);
        let mut got = first_n(cons, 2);
        got.sort();
        assert_eq!(
            got,
            vec![0, 1],
            "{}: both topics through the pattern",
            broker.name
        );
        let subscribed = ask("subscription", |out, e| unsafe {
            kafka_consumer_subscription(cons, out, e)
        });
        assert_eq!(
            entries(subscribed),
            vec![(pattern.clone(), -1, KAFKA_OFFSET_NONE)]
        );
        // ...and by subscribe, which replaces the subscription.
        let mut e = err();
        let only_a = [c(&a)];
        let ptrs = [only_a[0].as_ptr()];
        let rc = unsafe { kafka_consumer_subscribe(cons, ptrs.as_ptr(), 1, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        let subscribed = ask("subscription", |out, e| unsafe {
            kafka_consumer_subscription(cons, out, e)
        });
        assert_eq!(
            entries(subscribed),
            vec![(a.clone(), -1, KAFKA_OFFSET_NONE)]
        );
        let rc = unsafe { kafka_consumer_subscribe(cons, ptrs.as_ptr(), 0, &mut e) };
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "empty: unsubscribe instead");
        let bad = [c("^")];
        let bad_ptrs = [bad[0].as_ptr()];
        let rc = unsafe { kafka_consumer_subscribe(cons, bad_ptrs.as_ptr(), 1, &mut e) };
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        assert_eq!(
            unsafe { kafka_consumer_unsubscribe(cons, &mut e) },
            KAFKA_OK
        );
        let subscribed = ask("subscription", |out, e| unsafe {
            kafka_consumer_subscription(cons, out, e)
        });
        assert!(entries(subscribed).is_empty());
        close_consumer(cons);
        unsafe { kafka_instance_free(inst) };
    }
}
