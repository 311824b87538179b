//! `KafkaInstance`: one resolved configuration from which
//! producers, consumers and admin calls are made. Immutable once built, so
//! it is shared between threads freely.

use crate::admin;
use crate::config::{Config, Resolved};
use crate::error::Result;
use std::time::Duration;

#[derive(Clone)]
pub struct Instance {
    config: Config,
    resolved: Resolved,
}

impl Instance {
    /// Copies `config`. Fails with [`ErrorKind::Config`] when it names no
    /// brokers (neither a kafka_url nor bootstrap servers), or when the
    /// combined settings are refused by librdkafka.
    pub fn new(config: &Config) -> Result<Self> {
        let resolved = config.resolve()?;
        resolved
            .client_config()
            .create_native_config()
            .map_err(|e| crate::error::Error::from_rdkafka(&e, "checking the configuration"))?;
        Ok(Instance {
            config: config.clone(),
            resolved,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The settings every client of this instance starts from.
    pub fn resolved(&self) -> &Resolved {
        &self.resolved
    }

    pub fn create_topic(
        &self,
        topic: &str,
        partitions: i32,
        replication_factor: i32,
        timeout: Option<Duration>,
    ) -> Result<()> {
        admin::create_topic(
            &self.resolved,
            topic,
            partitions,
            replication_factor,
            timeout,
        )
    }

    pub fn delete_topic(&self, topic: &str, timeout: Option<Duration>) -> Result<()> {
        admin::delete_topic(&self.resolved, topic, timeout)
    }

    pub fn list_topics(&self, timeout: Option<Duration>) -> Result<Vec<String>> {
        admin::list_topics(&self.resolved, timeout)
    }
}
