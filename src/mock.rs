//! The embedded broker: librdkafka's mock cluster, a real Kafka-protocol
//! server on loopback inside this process.

use rdkafka::mocking::MockCluster as RdMockCluster;
use rdkafka::producer::DefaultProducerContext;

use crate::error::{Error, Result};
use crate::logging::{self, Level};
use crate::topic;

const CONTROLLER: &str = "kafka_instance.mock_cluster";
const SUBJECT: &str = "Kafka Mock Cluster";

pub struct MockCluster {
    inner: RdMockCluster<'static, DefaultProducerContext>,
    broker_count: i32,
    bootstrap_servers: String,
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
        })
    }

    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }

    pub fn broker_count(&self) -> i32 {
        self.broker_count
    }

    pub fn create_topic(&self, name: &str, partitions: i32, replication_factor: i32) -> Result<()> {
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

    fn check_broker(&self, broker_id: i32) -> Result<()> {
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
