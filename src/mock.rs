//! The embedded broker: librdkafka's mock cluster, a real Kafka-protocol
//! server on loopback inside this process.

use std::time::Duration;

use rdkafka::mocking::MockCluster as RdMockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use crate::error::{Error, Result};
use crate::fork::Origin;
use crate::logging::{self, Level};
use crate::topic;

const CONTROLLER: &str = "kafka_instance.mock_cluster";
const SUBJECT: &str = "Kafka Mock Cluster";

pub struct MockCluster {
    inner: RdMockCluster<'static, DefaultProducerContext>,
    broker_count: i32,
    bootstrap_servers: String,
    origin: Origin,
}

impl MockCluster {
    /// Starts `broker_count` brokers (ids 1..=broker_count) on loopback.
    pub fn new(broker_count: i32) -> Result<Self> {
        if !(1..=64).contains(&broker_count) {
            return Err(Error::invalid_argument(format!(
                "broker_count must be from 1 to 64, not {broker_count}"
            )));
        }
        let inner = RdMockCluster::new(broker_count)
            .map_err(|e| Error::from_rdkafka(&e, "starting the mock cluster"))?;
        let bootstrap_servers = inner.bootstrap_servers();
        logging::log(
            Level::Info,
            CONTROLLER,
            SUBJECT,
            &format!("mock cluster with {broker_count} broker(s) listening on {bootstrap_servers}"),
            None,
        );
        Ok(MockCluster {
            inner,
            broker_count,
            bootstrap_servers,
            origin: Origin::here(),
        })
    }

    /// Whether this is the process the cluster was started in: its brokers'
    /// threads do not exist in a forked child, so there it is neither used
    /// nor stopped.
    pub fn is_in_its_process(&self) -> bool {
        self.origin.check_release("embedded broker").is_ok()
    }

    fn check_process(&self) -> Result<()> {
        self.origin.check("embedded broker")
    }

    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }

    pub fn broker_count(&self) -> i32 {
        self.broker_count
    }

    pub fn create_topic(&self, name: &str, partitions: i32, replication_factor: i32) -> Result<()> {
        self.check_process()?;
        topic::validate(name)?;
        if partitions < 1 {
            return Err(Error::invalid_argument(format!(
                "partitions must be at least 1, not {partitions}"
            )));
        }
        if !(1..=self.broker_count).contains(&replication_factor) {
            return Err(Error::invalid_argument(format!(
                "replication_factor must be from 1 to the broker count ({}), not {replication_factor}",
                self.broker_count
            )));
        }
        self.inner
            .create_topic(name, partitions, replication_factor)
            .map_err(|e| Error::from_rdkafka(&e, &format!("creating topic {name:?}")))
    }

    pub fn broker_down(&self, broker_id: i32) -> Result<()> {
        self.check_broker(broker_id)?;
        self.inner
            .broker_down(broker_id)
            .map_err(|e| Error::from_rdkafka(&e, &format!("stopping broker {broker_id}")))
    }

    pub fn broker_up(&self, broker_id: i32) -> Result<()> {
        self.check_broker(broker_id)?;
        self.inner
            .broker_up(broker_id)
            .map_err(|e| Error::from_rdkafka(&e, &format!("starting broker {broker_id}")))
    }

    /// Makes the next requests of Kafka API `api_key` fail, one each, with
    /// the broker error codes in `errors`, in order.
    pub fn push_request_errors(&self, api_key: i16, errors: &[i32]) -> Result<()> {
        self.check_process()?;
        let key = api_key_of(api_key)?;
        let codes = errors
            .iter()
            .map(|&c| {
                RDKafkaRespErr::try_from(c)
                    .map_err(|_| Error::invalid_argument(format!("{c} is not a Kafka error code")))
            })
            .collect::<Result<Vec<_>>>()?;
        self.inner.request_errors(key, &codes);
        Ok(())
    }

    /// Forgets the errors pushed for `api_key` that were not used yet.
    pub fn clear_request_errors(&self, api_key: i16) -> Result<()> {
        self.check_process()?;
        self.inner.clear_request_errors(api_key_of(api_key)?);
        Ok(())
    }

    /// Delays every response of broker `broker_id` (-1: all brokers) by
    /// `rtt_ms`.
    pub fn set_round_trip_time(&self, broker_id: i32, rtt_ms: i32) -> Result<()> {
        self.check_process()?;
        if broker_id != -1 {
            self.check_broker(broker_id)?;
        }
        if rtt_ms < 0 {
            return Err(Error::invalid_argument(format!(
                "rtt_ms must be at least 0, not {rtt_ms}"
            )));
        }
        self.inner
            .broker_round_trip_time(broker_id, Duration::from_millis(rtt_ms as u64))
            .map_err(|e| Error::from_rdkafka(&e, "setting the round-trip time"))
    }

    /// Moves the leadership of `topic`'s `partition` to `broker_id`, or
    /// makes it leaderless with -1 (clients then see
    /// `LEADER_NOT_AVAILABLE` until a leader is set). The replicas stay as
    /// they are: a failover, as a real cluster's controller would make it.
    pub fn partition_set_leader(&self, name: &str, partition: i32, broker_id: i32) -> Result<()> {
        self.check_process()?;
        topic::validate(name)?;
        if broker_id != -1 {
            self.check_broker(broker_id)?;
        }
        if partition < 0 {
            return Err(Error::invalid_argument(format!(
                "partition must be at least 0, not {partition}"
            )));
        }
        self.inner
            .partition_leader(name, partition, (broker_id != -1).then_some(broker_id))
            .map_err(|e| {
                Error::from_rdkafka(
                    &e,
                    &format!("moving the leader of {name:?} partition {partition}"),
                )
            })
    }

    fn check_broker(&self, broker_id: i32) -> Result<()> {
        self.check_process()?;
        if (1..=self.broker_count).contains(&broker_id) {
            Ok(())
        } else {
            Err(Error::invalid_argument(format!(
                "no broker {broker_id}: this cluster's brokers are 1 to {}",
                self.broker_count
            )))
        }
    }
}

/// The Kafka API keys whose requests can be made to fail.
fn api_key_of(key: i16) -> Result<RDKafkaApiKey> {
    use RDKafkaApiKey as K;
    Ok(match key {
        0 => K::Produce,
        1 => K::Fetch,
        2 => K::ListOffsets,
        3 => K::Metadata,
        8 => K::OffsetCommit,
        9 => K::OffsetFetch,
        10 => K::FindCoordinator,
        11 => K::JoinGroup,
        12 => K::Heartbeat,
        13 => K::LeaveGroup,
        14 => K::SyncGroup,
        22 => K::InitProducerId,
        24 => K::AddPartitionsToTxn,
        25 => K::AddOffsetsToTxn,
        26 => K::EndTxn,
        28 => K::TxnOffsetCommit,
        other => {
            return Err(Error::invalid_argument(format!(
                "api_key {other} is not one of 0 Produce, 1 Fetch, 2 ListOffsets, 3 Metadata, \
                 8 OffsetCommit, 9 OffsetFetch, 10 FindCoordinator, 11 JoinGroup, 12 Heartbeat, \
                 13 LeaveGroup, 14 SyncGroup, 22 InitProducerId, 24 AddPartitionsToTxn, \
                 25 AddOffsetsToTxn, 26 EndTxn, 28 TxnOffsetCommit"
            )))
        }
    })
}
