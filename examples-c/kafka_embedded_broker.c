/* kafka-embedded-broker: the embedded broker (librdkafka's mock cluster,
 * the kafka_mock_cluster_* functions) as a command, for running your own
 * program against it without writing one that holds it open.
 *
 *   kafka-embedded-broker [--port N] [--brokers N] [TOPIC[:PARTITIONS]]...
 *
 *   --port N      clients bootstrap from 127.0.0.1:N (default: a free port)
 *   --brokers N   how many brokers, 1 to 64 (default 1)
 *   TOPIC         created with 1 partition; TOPIC:P with P partitions
 *                 (replicated on up to 3 brokers)
 *
 * Its first line on stdout is `KAFKA_BOOTSTRAP_SERVERS=host:port[,...]`,
 * written as soon as the brokers and topics are ready. It runs until
 * SIGINT (Ctrl-C) or SIGTERM, then stops the brokers and exits 0. A bad
 * argument: a message on stderr and exit status 2; any other failure: 1.
 *
 *   terminal 1:  kafka-embedded-broker --port 9092 orders
 *   terminal 2:  export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 && ./app
 *
 * The brokers keep everything in memory: stopping them loses it.
 *
 * With --port: the brokers listen on ports of their own choosing (the
 * header has no way to choose them), so the command listens on port N
 * itself and relays each connection to broker 1. A client only bootstraps
 * there: the cluster's metadata then sends it to the brokers' own ports,
 * on this machine. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kafka_instance.h"

#define NAME "kafka-embedded-broker"
#define MAX_TOPICS 256
#define MAX_LINKS 256
#define RELAY_BUFFER 65536

static void usage(FILE *to) {
  fprintf(to,
          "usage: " NAME " [--port N] [--brokers N] [TOPIC[:PARTITIONS]]...\n"
          "  --port N      clients bootstrap from 127.0.0.1:N (default: a free port)\n"
          "  --brokers N   how many brokers, 1 to 64 (default 1)\n"
          "  TOPIC         a topic to create, with 1 partition; TOPIC:P for P partitions\n"
          "Prints KAFKA_BOOTSTRAP_SERVERS=host:port first, then runs until SIGINT or SIGTERM.\n");
}

/* Exit status 2, for a bad argument. */
static int bad_argument(const char *fmt, const char *what) {
  fprintf(stderr, NAME ": ");
  fprintf(stderr, fmt, what);
  fprintf(stderr, "\n");
  usage(stderr);
  return 2;
}

/* `text` as a whole decimal number from `min` to `max`, or -1. */
static long number(const char *text, long min, long max) {
  char *end = NULL;
  errno = 0;
  long n = strtol(text, &end, 10);
  if (!*text || *end || errno || n < min || n > max) return -1;
  return n;
}

/* The library's log records, as lines of this command on stderr: those
 * of librdkafka (the brokers' own); the failures of calls this command
 * makes, it reports itself. KAFKA_INSTANCE_LOG sets the level, as for
 * any program (default: warning). */
static void on_log(const KafkaLogRecord *r, void *opaque) {
  (void)opaque;
  if (r->subject && strcmp(r->subject, "librdkafka") == 0)
    fprintf(stderr, NAME ": %s: %s\n", r->log_type, r->message);
}

static KafkaLogLevel log_level(void) {
  static const struct {
    const char *name;
    int level;
  } levels[] = {{"off", 0}, {"error", KAFKA_LOG_ERROR}, {"warning", KAFKA_LOG_WARNING},
                {"info", KAFKA_LOG_INFO}, {"debug", KAFKA_LOG_DEBUG}};
  const char *asked = getenv("KAFKA_INSTANCE_LOG");
  for (size_t i = 0; asked && i < sizeof levels / sizeof levels[0]; i++)
    if (strcmp(asked, levels[i].name) == 0) return (KafkaLogLevel)levels[i].level;
  return KAFKA_LOG_WARNING;
}

/* A signal ends the run: the handler writes a byte the main loop polls. */
static int stop_pipe[2] = {-1, -1};

static void on_signal(int sig) {
  int saved = errno;
  unsigned char byte = (unsigned char)sig;
  if (write(stop_pipe[1], &byte, 1) < 0) {
    /* The pipe is full: a stop is already pending. */
  }
  errno = saved;
}

static int nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* --- The relay for --port: one link per client connection. ----------- */

/* Bytes read from one side and not yet written to the other. */
struct half {
  char buf[RELAY_BUFFER];
  size_t len, off;
  int eof; /* the source side sent its last byte */
  int shut; /* and it was passed on (shutdown of the destination) */
};

struct link {
  int client, broker;
  struct half up;   /* client -> broker */
  struct half down; /* broker -> client */
};

static struct link *links[MAX_LINKS];

static void link_close(int i) {
  close(links[i]->client);
  close(links[i]->broker);
  free(links[i]);
  links[i] = NULL;
}

/* Reads what `from` has into `h`. 0, or -1 when the link is broken. */
static int half_read(struct half *h, int from) {
  ssize_t n = recv(from, h->buf, sizeof h->buf, 0);
  if (n > 0) {
    h->len = (size_t)n;
    h->off = 0;
    return 0;
  }
  if (n == 0) {
    h->eof = 1;
    return 0;
  }
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
}

/* Writes what `h` holds to `to`; passes the end on once all is written.
 * 0, or -1 when the link is broken. */
static int half_write(struct half *h, int to) {
  while (h->off < h->len) {
    ssize_t n = send(to, h->buf + h->off, h->len - h->off, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    h->off += (size_t)n;
  }
  h->len = h->off = 0;
  if (h->eof && !h->shut) {
    shutdown(to, SHUT_WR);
    h->shut = 1;
  }
  return 0;
}

/* Connects to `addr` (broker 1), blocking: it is on this machine. */
static int connect_to(const struct addrinfo *addr) {
  int fd = socket(addr->ai_family, addr->ai_socktype, addr->ai_protocol);
  if (fd < 0) return -1;
  if (connect(fd, addr->ai_addr, addr->ai_addrlen) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void accept_clients(int listener, const struct addrinfo *broker) {
  for (;;) {
    int client = accept(listener, NULL, NULL);
    if (client < 0) return; /* EAGAIN: none left; anything else: next time */
    int slot = -1;
    for (int i = 0; i < MAX_LINKS && slot < 0; i++)
      if (!links[i]) slot = i;
    int to = slot < 0 ? -1 : connect_to(broker);
    struct link *l = to < 0 ? NULL : calloc(1, sizeof *l);
    if (!l) {
      fprintf(stderr, NAME ": refused a connection (%s)\n",
              slot < 0 ? "too many open" : to < 0 ? "broker 1 did not answer" : "out of memory");
      if (to >= 0) close(to);
      close(client);
      continue;
    }
    int on = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    setsockopt(to, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    nonblocking(client);
    nonblocking(to);
    l->client = client;
    l->broker = to;
    links[slot] = l;
  }
}

/* What to wait for on one side: read when its outgoing half is empty,
 * write when the incoming one holds bytes. */
static short wanted(const struct half *out, const struct half *in) {
  short events = 0;
  if (!out->eof && out->len == 0) events |= POLLIN;
  if (in->len > 0) events |= POLLOUT;
  return events;
}

/* Serves one side's poll result. 0, or -1 when the link is done. */
static int serve(short revents, int fd, struct half *out, struct half *in, int other) {
  int acted = 0;
  if ((revents & (POLLIN | POLLHUP | POLLERR)) && !out->eof && out->len == 0) {
    if (half_read(out, fd) != 0) return -1;
    if (half_write(out, other) != 0) return -1;
    acted = 1;
  }
  if ((revents & (POLLOUT | POLLHUP | POLLERR)) && in->len > 0) {
    if (half_write(in, fd) != 0) return -1;
    acted = 1;
  }
  if (!acted && (revents & (POLLHUP | POLLERR))) return -1;
  return 0;
}

/* Runs until a signal: serves the relay when there is one. */
static void run(int listener, const struct addrinfo *broker) {
  static struct pollfd fds[2 + 2 * MAX_LINKS];
  static int which[2 + 2 * MAX_LINKS];
  for (;;) {
    nfds_t n = 0;
    fds[n++] = (struct pollfd){.fd = stop_pipe[0], .events = POLLIN};
    if (listener >= 0) fds[n++] = (struct pollfd){.fd = listener, .events = POLLIN};
    nfds_t first_link = n;
    for (int i = 0; i < MAX_LINKS; i++) {
      struct link *l = links[i];
      if (!l) continue;
      which[n] = i;
      fds[n++] = (struct pollfd){.fd = l->client, .events = wanted(&l->up, &l->down)};
      which[n] = i;
      fds[n++] = (struct pollfd){.fd = l->broker, .events = wanted(&l->down, &l->up)};
    }
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      perror(NAME ": poll");
      return;
    }
    if (fds[0].revents) return;
    if (listener >= 0 && (fds[1].revents & POLLIN)) accept_clients(listener, broker);
    for (nfds_t k = first_link; k < n; k += 2) {
      int i = which[k];
      struct link *l = links[i];
      if (serve(fds[k].revents, l->client, &l->up, &l->down, l->broker) != 0 ||
          serve(fds[k + 1].revents, l->broker, &l->down, &l->up, l->client) != 0 ||
          (l->up.shut && l->down.shut)) {
        link_close(i);
      }
    }
  }
}

/* A listening socket on 127.0.0.1:port, or -1 (with a message). */
static int listen_on(long port) {
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((unsigned short)port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int on = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(fd, 64) != 0 ||
      nonblocking(fd) != 0) {
    fprintf(stderr, NAME ": cannot listen on 127.0.0.1:%ld: %s\n", port, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

/* The address of the first `host:port` of a bootstrap string. */
static struct addrinfo *first_broker(const char *servers) {
  char host[256];
  size_t len = strcspn(servers, ",");
  if (len >= sizeof host) return NULL;
  memcpy(host, servers, len);
  host[len] = '\0';
  char *colon = strrchr(host, ':');
  if (!colon) return NULL;
  *colon = '\0';
  struct addrinfo hints, *found = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  return getaddrinfo(host, colon + 1, &hints, &found) == 0 ? found : NULL;
}

int main(int argc, char **argv) {
  long port = 0, brokers = 1;
  const char *topics[MAX_TOPICS];
  long partitions[MAX_TOPICS];
  int topic_count = 0;

  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *value = NULL;
    long *into = NULL, max = 0;
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (strncmp(arg, "--port", 6) == 0 && (arg[6] == '\0' || arg[6] == '=')) {
      into = &port;
      max = 65535;
    } else if (strncmp(arg, "--brokers", 9) == 0 && (arg[9] == '\0' || arg[9] == '=')) {
      into = &brokers;
      max = 64;
    } else if (arg[0] == '-') {
      return bad_argument("unknown option %s", arg);
    } else {
      if (topic_count == MAX_TOPICS) return bad_argument("more than %s topics", "256");
      const char *colon = strchr(arg, ':');
      partitions[topic_count] = colon ? number(colon + 1, 1, 100000) : 1;
      if (partitions[topic_count] < 0)
        return bad_argument("%s: the partition count must be a number from 1 to 100000", arg);
      if (arg[0] == ':') return bad_argument("%s: no topic name", arg);
      topics[topic_count++] = arg;
      continue;
    }
    const char *eq = strchr(arg, '=');
    if (eq) {
      value = eq + 1;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return bad_argument("%s needs a value", arg);
    }
    *into = number(value, 1, max);
    if (*into < 0)
      return bad_argument(into == &port ? "--port: %s is not a port (1 to 65535)"
                                        : "--brokers: %s is not a broker count (1 to 64)",
                          value);
  }

  /* Stop on SIGINT and SIGTERM, and never on a closed connection. */
  if (pipe(stop_pipe) != 0 || nonblocking(stop_pipe[1]) != 0) {
    perror(NAME ": pipe");
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int listener = -1;
  if (port && (listener = listen_on(port)) < 0) return 1;

  kafka_set_log_callback(on_log, NULL, log_level());

  KafkaError err;
  KafkaMockCluster *mc = kafka_mock_cluster_new((int32_t)brokers, &err);
  if (!mc) {
    fprintf(stderr, NAME ": starting the brokers failed: %s\n", err.message);
    return 1;
  }
  const char *servers = kafka_mock_cluster_bootstrap_servers(mc);
  int status = 0;
  for (int t = 0; t < topic_count && status == 0; t++) {
    char name[256];
    size_t len = strcspn(topics[t], ":");
    if (len >= sizeof name) {
      status = bad_argument("%s: the topic name is too long", topics[t]);
      break;
    }
    memcpy(name, topics[t], len);
    name[len] = '\0';
    int32_t replicas = brokers < 3 ? (int32_t)brokers : 3;
    if (kafka_mock_cluster_create_topic(mc, name, (int32_t)partitions[t], replicas, &err) != KAFKA_OK) {
      if (err.code == KAFKA_ERR_INVALID_ARGUMENT) {
        status = bad_argument("%s", err.message);
      } else {
        fprintf(stderr, NAME ": creating topic %s failed: %s\n", name, err.message);
        status = 1;
      }
    }
  }
  struct addrinfo *broker = NULL;
  if (status == 0 && listener >= 0 && !(broker = first_broker(servers))) {
    fprintf(stderr, NAME ": cannot resolve broker 1 (%s)\n", servers);
    status = 1;
  }
  if (status != 0) {
    kafka_mock_cluster_free(mc);
    return status;
  }

  if (listener >= 0) {
    printf("KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:%ld\n", port);
  } else {
    printf("KAFKA_BOOTSTRAP_SERVERS=%s\n", servers);
  }
  fflush(stdout);
  fprintf(stderr, NAME ": %ld broker(s) at %s%s; stop with Ctrl-C (SIGINT) or SIGTERM\n", brokers, servers,
          listener >= 0 ? ", relayed from the port asked for" : "");

  run(listener, broker);

  for (int i = 0; i < MAX_LINKS; i++)
    if (links[i]) link_close(i);
  if (listener >= 0) close(listener);
  if (broker) freeaddrinfo(broker);
  kafka_mock_cluster_free(mc);
  fprintf(stderr, NAME ": stopped\n");
  return 0;
}
