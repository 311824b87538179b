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
    /// Made on the first admin call and kept (one per instance, shared by
    /// its clones).
    admin: admin::Shared,
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
            admin: admin::Shared::default(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The settings every client of this instance starts from.
    pub fn resolved(&self) -> &Resolved {
        &self.resolved
    }

    /// The instance's admin client, made on first use.
    pub fn admin(&self) -> Result<std::sync::Arc<admin::Admin>> {
        self.admin.get(&self.resolved)
    }

    pub fn create_topic(
        &self,
        topic: &str,
        partitions: i32,
        replication_factor: i32,
        timeout: Option<Duration>,
    ) -> Result<()> {
        self.admin()?
            .create_topic(topic, partitions, replication_factor, timeout)
    }

    pub fn delete_topic(&self, topic: &str, timeout: Option<Duration>) -> Result<()> {
        self.admin()?.delete_topic(topic, timeout)
    }

    pub fn list_topics(&self, timeout: Option<Duration>) -> Result<Vec<String>> {
        self.admin()?.list_topics(timeout)
    }
}
