//! Topic requests: create, delete, list, describe, grow, delete records,
//! and a topic's settings (described, or changed with the others kept).

use super::*;

impl Admin {
    pub fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i32,
        wait: Option<Duration>,
    ) -> Result<()> {
        topic::validate(name)?;
        at_least("partitions", partitions, 1)?;
        at_least("replication_factor", replication_factor, 1)?;
        let context = format!("creating topic {name:?}");
        let what = TopicRequest::Create {
            name,
            partitions,
            replication_factor,
        };
        self.topic_request(what, wait, &context)
    }

    pub fn delete_topic(&self, name: &str, wait: Option<Duration>) -> Result<()> {
        topic::validate(name)?;
        let context = format!("deleting topic {name:?}");
        self.topic_request(TopicRequest::Delete { name }, wait, &context)
    }

    /// The cluster's topic names, sorted, without internal topics (names
    /// starting with `__`, such as `__consumer_offsets`).
    pub fn list_topics(&self, wait: Option<Duration>) -> Result<Vec<String>> {
        let metadata = self.metadata(None, wait, "listing topics")?;
        let mut names: Vec<String> = metadata
            .topics()
            .iter()
            .map(|t| t.name().to_owned())
            .filter(|n| !n.starts_with("__"))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Brokers and partitions: of every topic (`topic` None, internal
    /// topics left out), or of one topic (which must exist).
    pub fn describe(&self, topic: Option<&str>, wait: Option<Duration>) -> Result<Cluster> {
        if let Some(t) = topic {
            topic::validate(t)?;
        }
        let context = match topic {
            Some(t) => format!("describing topic {t:?}"),
            None => "describing the cluster".to_owned(),
        };
        let metadata = self.metadata(topic, wait, &context)?;
        let mut cluster = Cluster {
            id: sys::cluster_id(self.client.inner(), Duration::from_secs(1)),
            brokers: metadata
                .brokers()
                .iter()
                .map(|b| BrokerInfo {
                    id: b.id(),
                    host: b.host().to_owned(),
                    port: b.port(),
                })
                .collect(),
            partitions: Vec::new(),
        };
        cluster.brokers.sort_by_key(|b| b.id);
        for t in metadata.topics() {
            if topic.is_none() && t.name().starts_with("__") {
                continue;
            }
            if let Some(e) = t.error() {
                let code = RDKafkaErrorCode::from(e);
                if topic.is_some() {
                    return Err(Error::from_rdkafka_code(code, &context));
                }
                continue;
            }
            for p in t.partitions() {
                cluster.partitions.push(PartitionInfo {
                    topic: t.name().to_owned(),
                    partition: p.id(),
                    leader: p.leader(),
                    replicas: p.replicas().to_vec(),
                    in_sync: p.isr().to_vec(),
                    error: p.error().map(RDKafkaErrorCode::from),
                });
            }
        }
        cluster
            .partitions
            .sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        Ok(cluster)
    }

    /// Grows `topic` to `total` partitions.
    pub fn create_partitions(&self, name: &str, total: i32, wait: Option<Duration>) -> Result<()> {
        topic::validate(name)?;
        at_least("total", total, 1)?;
        let context = format!("growing topic {name:?} to {total} partitions");
        let what = TopicRequest::CreatePartitions { name, total };
        self.topic_request(what, wait, &context)
    }

    /// Deletes the records of `topic`'s `partition` before `offset`
    /// (`-1`: all of them); returns the partition's new low watermark.
    pub fn delete_records(
        &self,
        name: &str,
        partition: i32,
        offset: i64,
        wait: Option<Duration>,
    ) -> Result<i64> {
        topic::validate(name)?;
        at_least("partition", partition, 0)?;
        if offset < -1 {
            return Err(Error::invalid_argument(format!(
                "offset must be 0 or more, or -1 (all records), not {offset}"
            )));
        }
        let context = format!("deleting the records of {name}[{partition}] before {offset}");
        let mut list = TopicPartitionList::new();
        let at = match offset {
            -1 => rdkafka::Offset::End,
            o => rdkafka::Offset::Offset(o),
        };
        list.add_partition_offset(name, partition, at)
            .map_err(|e| Error::from_rdkafka(&e, &context))?;
        let result = self
            .wait(self.client.delete_records(&list, &options(wait)), &context)?
            .map_err(|e| self.explain(Error::from_rdkafka(&e, &context)))?;
        let element = result
            .elements()
            .into_iter()
            .next()
            .ok_or_else(|| Error::new(ErrorKind::Broker, format!("{context}: no result")))?;
        element
            .error()
            .map_err(|e| Error::from_rdkafka(&e, &context))?;
        match element.offset() {
            rdkafka::Offset::Offset(o) => Ok(o),
            other => Err(Error::new(
                ErrorKind::Broker,
                format!("{context}: the broker answered {other:?}"),
            )),
        }
    }

    /// Every setting of `topic` as the broker reports it, sorted by name.
    pub fn topic_config(&self, name: &str, wait: Option<Duration>) -> Result<Vec<TopicSetting>> {
        topic::validate(name)?;
        let context = format!("describing the settings of topic {name:?}");
        let wait = self.check_controller(wait, &context)?;
        let stop = || self.security.get().is_some();
        let outcome = native_admin::topic_settings(self.client.inner(), name, wait, &stop);
        let mut settings: Vec<TopicSetting> = self
            .outcome(outcome, &context)?
            .into_iter()
            .map(|e| TopicSetting {
                value: if e.is_sensitive { None } else { e.value },
                set_on_topic: e.set_on_topic,
                name: e.name,
                is_default: e.is_default,
                is_read_only: e.is_read_only,
                is_sensitive: e.is_sensitive,
            })
            .collect();
        settings.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(settings)
    }

    /// Sets (`Some`) or resets to the default (`None`) the `changes` of
    /// `topic`, keeping its other settings: with IncrementalAlterConfigs
    /// (Kafka 2.3 and later), which changes only the settings named. A
    /// broker without it gets AlterConfigs, which replaces a topic's whole
    /// set: the settings made on the topic are read first and sent again
    /// with the changes (a change made by someone else in between is
    /// lost), and a topic with a sensitive setting of its own (whose value
    /// no broker shows) is refused rather than losing it.
    pub fn alter_topic_config(
        &self,
        name: &str,
        changes: &[(&str, Option<&str>)],
        wait: Option<Duration>,
    ) -> Result<()> {
        topic::validate(name)?;
        if changes.is_empty() {
            return Err(Error::invalid_argument("no settings to change"));
        }
        for (key, _) in changes {
            if key.trim().is_empty() {
                return Err(Error::invalid_argument("a setting name is empty"));
            }
        }
        let deadline = wait.map(|w| Instant::now() + w);
        let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let context = format!("changing the settings of topic {name:?}");
        self.check_controller(wait, &context)?;
        let what = TopicRequest::ChangeConfigs { name, changes };
        let stop = || self.security.get().is_some();
        let outcome = native_admin::topic_request(self.client.inner(), what, left(), &stop);
        let unsupported = [
            RDKafkaErrorCode::UnsupportedFeature,
            RDKafkaErrorCode::UnsupportedVersion,
        ];
        match outcome {
            Outcome::Failed(code, _) if unsupported.contains(&code) => {}
            other => return self.outcome(other, &context),
        }
        let current = self.topic_config(name, left())?;
        let changed = |n: &str| changes.iter().any(|(k, _)| *k == n);
        if let Some(s) = current
            .iter()
            .find(|s| s.set_on_topic && s.value.is_none() && !changed(&s.name))
        {
            let why = format!(
                "{context}: the broker has no IncrementalAlterConfigs, and resending the \
                 topic's settings would lose {:?}, whose value it does not show",
                s.name
            );
            return Err(Error::from_rdkafka_code(
                RDKafkaErrorCode::UnsupportedFeature,
                &why,
            ));
        }
        let kept = merged_settings(current, changes);
        let what = TopicRequest::AlterConfigs {
            name,
            settings: &kept,
        };
        self.topic_request(what, left(), &context)
    }
}

/// What AlterConfigs must be sent for `changes` (`None`: back to the
/// inherited value) to apply to a topic whose settings are `current`:
/// the settings made on the topic, changed.
pub(super) fn merged_settings(
    current: Vec<TopicSetting>,
    changes: &[(&str, Option<&str>)],
) -> Vec<(String, String)> {
    let mut kept: Vec<(String, String)> = current
        .into_iter()
        .filter(|s| s.set_on_topic)
        .filter_map(|s| Some((s.name, s.value?)))
        .collect();
    for (key, value) in changes {
        kept.retain(|(k, _)| k != key);
        if let Some(v) = value {
            kept.push(((*key).to_owned(), (*v).to_owned()));
        }
    }
    kept
}

pub(super) fn at_least(name: &str, value: i32, min: i32) -> Result<()> {
    match value >= min {
        true => Ok(()),
        false => Err(Error::invalid_argument(format!(
            "{name} must be at least {min}, not {value}"
        ))),
    }
}
