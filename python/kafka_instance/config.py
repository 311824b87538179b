"""KafkaConfig: the settings of a KafkaInstance, set with chainable setters."""

from urllib.parse import urlsplit, urlunsplit

_SECRET = ("sasl_plain_password",)


class KafkaConfig:
    """Connection and client settings, each setter returning the config so
    that calls chain. Nothing is checked here: the KafkaInstance made from
    it checks everything and says what is wrong. Not thread-safe (build it,
    then hand it over)."""

    def __init__(self):
        self._settings = {}

    def _set(self, key, value):
        self._settings[key] = value
        return self

    def set_kafka_url(self, kafka_url):
        """A `kafka://user:password@host1:9092,host2:9092` URL (servers and,
        optionally, SASL credentials); it wins over set_bootstrap_servers."""
        return self._set("kafka_url", kafka_url)

    def set_bootstrap_servers(self, bootstrap_servers):
        """A list of "host:port" strings (a single string is taken as one)."""
        if isinstance(bootstrap_servers, str):
            bootstrap_servers = [bootstrap_servers]
        return self._set("bootstrap_servers", list(bootstrap_servers))

    def set_security_protocol(self, security_protocol):
        """PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."""
        return self._set("security_protocol", security_protocol)

    def set_sasl_mechanism(self, sasl_mechanism):
        """PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI or OAUTHBEARER."""
        return self._set("sasl_mechanism", sasl_mechanism)

    def set_sasl_plain_username(self, sasl_plain_username):
        return self._set("sasl_plain_username", sasl_plain_username)

    def set_sasl_plain_password(self, sasl_plain_password):
        """Never logged, shown or put in an error message."""
        return self._set("sasl_plain_password", sasl_plain_password)

    def set_client_id(self, client_id):
        return self._set("client_id", client_id)

    def set_group_id(self, group_id):
        return self._set("group_id", group_id)

    def set_auto_offset_reset(self, auto_offset_reset):
        """earliest, latest (the default) or none."""
        return self._set("auto_offset_reset", auto_offset_reset)

    def set_enable_auto_commit(self, enable_auto_commit):
        """True (the default): offsets of processed messages are committed
        periodically; False: call commit()."""
        return self._set("enable_auto_commit", bool(enable_auto_commit))

    def get(self, key, default=None):
        return self._settings.get(key, default)

    def __repr__(self):
        shown = {}
        for key, value in self._settings.items():
            if key in _SECRET:
                value = "***"
            elif key == "kafka_url" and isinstance(value, str):
                value = _mask_url(value)
            shown[key] = value
        return "KafkaConfig(%r)" % (shown,)


def _mask_url(url):
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
