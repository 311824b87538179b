//! Group requests: list and describe groups, their committed offsets and
//! lag, and delete a group.

use super::*;

impl Admin {
    /// The consumer groups the brokers know (`group` None), or one group
    /// with its members and their assignments.
    pub fn groups(&self, group: Option<&str>, wait: Option<Duration>) -> Result<Vec<GroupInfo>> {
        if group == Some("") {
            return Err(Error::invalid_argument("group must not be empty"));
        }
        let context = match group {
            Some(g) => format!("describing group {g:?}"),
            None => "listing groups".to_owned(),
        };
        let t = wait.map_or(Timeout::Never, Timeout::After);
        let list = self
            .client
            .inner()
            .fetch_group_list(group, t)
            .map_err(|e| self.explain(Error::from_rdkafka(&e, &context)))?;
        let mut groups: Vec<GroupInfo> = list
            .groups()
            .iter()
            .map(|g| GroupInfo {
                name: g.name().to_owned(),
                state: g.state().to_owned(),
                protocol_type: g.protocol_type().to_owned(),
                protocol: g.protocol().to_owned(),
                members: g
                    .members()
                    .iter()
                    .map(|m| GroupMember {
                        id: m.id().to_owned(),
                        client_id: m.client_id().to_owned(),
                        host: m.client_host().to_owned(),
                        assignment: m.assignment().map(decode_assignment).unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(groups)
    }

    /// The offsets `group` has committed, per partition, sorted: of
    /// `partitions` (each listed, -1001 where nothing is committed), or of
    /// every partition it committed (None).
    pub fn group_offsets(
        &self,
        group: &str,
        partitions: Option<&[(&str, i32)]>,
        wait: Option<Duration>,
    ) -> Result<Vec<Committed>> {
        if group.is_empty() {
            return Err(Error::invalid_argument("group must not be empty"));
        }
        for (t, p) in partitions.unwrap_or_default() {
            topic::validate(t)?;
            at_least("partition", *p, 0)?;
        }
        let context = format!("reading the committed offsets of group {group:?}");
        let stop = || self.security.get().is_some();
        let outcome =
            native_admin::group_offsets(self.client.inner(), group, partitions, wait, &stop);
        let mut offsets = self.coordinator_outcome(outcome, &context)?;
        offsets.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        Ok(offsets
            .into_iter()
            .map(|o| Committed {
                topic: o.topic,
                partition: o.partition,
                offset: if o.offset >= 0 { o.offset } else { NO_OFFSET },
            })
            .collect())
    }

    /// Per partition the group committed an offset for: the committed
    /// offset and the partition's watermarks (lag is high minus
    /// committed).
    pub fn group_lag(
        &self,
        group: &str,
        partitions: Option<&[(&str, i32)]>,
        wait: Option<Duration>,
    ) -> Result<Vec<Lag>> {
        let deadline = wait.map(|w| Instant::now() + w);
        let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let committed = self.group_offsets(group, partitions, left())?;
        let mut lags = Vec::with_capacity(committed.len());
        for c in committed {
            let context = format!("reading the watermarks of {}[{}]", c.topic, c.partition);
            let t = left().map_or(Timeout::Never, Timeout::After);
            let (low, high) = self
                .client
                .inner()
                .fetch_watermarks(&c.topic, c.partition, t)
                .map_err(|e| self.explain(Error::from_rdkafka(&e, &context)))?;
            let lag = if c.offset >= 0 {
                (high - c.offset).max(0)
            } else {
                high - low
            };
            lags.push(Lag {
                committed: c,
                low,
                high,
                lag,
            });
        }
        Ok(lags)
    }

    pub fn delete_group(&self, group: &str, wait: Option<Duration>) -> Result<()> {
        if group.is_empty() {
            return Err(Error::invalid_argument("group must not be empty"));
        }
        let context = format!("deleting group {group:?}");
        let stop = || self.security.get().is_some();
        let outcome = native_admin::delete_group(self.client.inner(), group, wait, &stop);
        if matches!(
            outcome,
            Outcome::Failed(RDKafkaErrorCode::UnsupportedFeature, _)
        ) {
            self.never_destroy.store(true, Ordering::Release);
        }
        self.coordinator_outcome(outcome, &context)
    }
}

/// The (topic, partition) pairs of a consumer-protocol assignment
/// (version, then an array of topic and partition array, then user data);
/// an assignment in another shape (another protocol type) gives none.
pub(super) fn decode_assignment(bytes: &[u8]) -> Vec<(String, i32)> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (b.get(..n)?, b.get(n..)?);
        *b = rest;
        Some(head)
    }
    fn int16(b: &mut &[u8]) -> Option<i16> {
        take(b, 2).map(|x| i16::from_be_bytes([x[0], x[1]]))
    }
    fn int32(b: &mut &[u8]) -> Option<i32> {
        take(b, 4).map(|x| i32::from_be_bytes([x[0], x[1], x[2], x[3]]))
    }
    let parse = |mut b: &[u8]| -> Option<Vec<(String, i32)>> {
        let _version = int16(&mut b)?;
        let mut out = Vec::new();
        for _ in 0..int32(&mut b)?.max(0) {
            let len = int16(&mut b)?.max(0) as usize;
            let name = String::from_utf8_lossy(take(&mut b, len)?).into_owned();
            for _ in 0..int32(&mut b)?.max(0) {
                out.push((name.clone(), int32(&mut b)?));
            }
        }
        out.sort();
        Some(out)
    };
    parse(bytes).unwrap_or_default()
}
