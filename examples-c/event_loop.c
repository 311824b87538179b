/* An event loop that waits on several things at once (here: the consumer
 * and a timer, with epoll) instead of blocking in kafka_consumer_poll.
 *
 * kafka_consumer_event_fd gives a descriptor that is readable while a poll
 * would return at once. The loop waits for it with everything else it
 * watches, then polls with timeout 0 until nothing is left; the library
 * leaves the descriptor readable exactly when there is more, so nothing
 * is missed and nothing spins. kafka_consumer_wakeup (from another thread
 * or a signal handler) makes it readable too, which ends such a loop. The
 * same descriptor goes to libuv's uv_poll_t or Python's loop.add_reader. */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "example.h"

int main(void) {
  KafkaError err;
  KafkaConfig *config = kafka_config_new();
  const char *servers[] = {example_servers()};
  kafka_config_set_bootstrap_servers(config, servers, 1, &err);
  kafka_config_set_group_id(config, "event-loop", &err);
  kafka_config_set_auto_offset_reset(config, "earliest", &err);
  KafkaInstance *kafka = kafka_instance_new(config, &err);
  kafka_config_free(config);
  if (!kafka) return fail("creating the instance", &err);
  example_topic(kafka, "clicks", 1);
  example_seed(kafka, "clicks", 25);

  const char *topics[] = {"clicks"};
  KafkaConsumer *consumer = kafka_instance_get_consumer(kafka, topics, 1, NULL, &err);
  if (!consumer) return fail("creating the consumer", &err);
  int kafka_fd = kafka_consumer_event_fd(consumer, &err);
  if (kafka_fd < 0) return fail("asking for the event fd", &err);

  /* Something else the loop serves: a timer every 100 ms. */
  int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  struct itimerspec every = {{0, 100 * 1000 * 1000}, {0, 100 * 1000 * 1000}};
  timerfd_settime(timer, 0, &every, NULL);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = kafka_fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, kafka_fd, &ev);
  ev.data.fd = timer;
  epoll_ctl(ep, EPOLL_CTL_ADD, timer, &ev);

  int received = 0, ticks = 0;
  while (received < 25 && ticks < 300) {
    struct epoll_event ready[2];
    int n = epoll_wait(ep, ready, 2, -1);
    for (int i = 0; i < n; i++) {
      if (ready[i].data.fd == timer) {
        uint64_t expirations;
        if (read(timer, &expirations, sizeof expirations) > 0) ticks++;
        /* and poll below: a consumer must poll now and then even when
         * nothing arrives (auto-commit, max_poll_interval_ms). */
      }
      /* Take all there is without waiting. */
      for (;;) {
        KafkaMessage *m = NULL;
        if (kafka_consumer_poll(consumer, 0, &m, &err) != KAFKA_OK) return fail("polling", &err);
        if (!m) break;
        received++;
        kafka_message_free(m);
      }
    }
  }
  printf("received %d messages while the timer ticked %d times\n", received, ticks);

  /* Out of the loop before close: close closes the descriptor. */
  epoll_ctl(ep, EPOLL_CTL_DEL, kafka_fd, NULL);
  close(ep);
  close(timer);
  if (kafka_consumer_close(consumer, &err) != KAFKA_OK) return fail("closing", &err);
  kafka_instance_free(kafka);
  example_done();
  return received == 25 ? 0 : 1;
}
