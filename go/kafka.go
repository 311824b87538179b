// Package kafkainstance is a small Go binding of the kafka_instance C
// library: an instance made from settings, producers that send JSON with a
// delivery callback, consumers that dispatch to handlers, and a clean
// close. Link flags come from pkg-config (kafka_instance.pc).
//
// Lifetime rules: Go callbacks are kept in a cgo.Handle for as long as the
// library may call them (until Close of the producer or consumer) and
// never unwind into C (a panicking callback is recovered and reported as
// a failed handler). Callbacks run on library threads (delivery) or on
// the goroutine calling Consume (handlers).
package kafkainstance

/*
#cgo pkg-config: kafka_instance
#include <stdlib.h>
#include "kafka_instance.h"

extern void kiGoDelivered(KafkaDeliveryReport *report, void *opaque);
extern int kiGoHandle(KafkaMessage *m, void *opaque);

static KafkaErrorCode ki_send_json(KafkaProducer *p, const char *topic, const char *key,
                                   size_t key_len, const char *json, size_t json_len,
                                   uintptr_t handle, KafkaError *err) {
  KafkaRecord r = {0};
  r.topic = topic;
  r.key = key;
  r.key_len = key_len;
  r.value = json;
  r.value_len = json_len;
  return kafka_producer_send(p, &r, (KafkaDeliveryCallback)kiGoDelivered, (void *)handle, err);
}

static KafkaErrorCode ki_register(KafkaConsumer *c, const char *topic, uintptr_t handle,
                                  KafkaError *err) {
  return kafka_consumer_register_handler(c, topic, (KafkaHandler)kiGoHandle, (void *)handle, err);
}
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Error is a failed call: the library's code name and message.
type Error struct {
	Code        int
	Name        string
	RdkafkaCode int
	Message     string
}

func (e *Error) Error() string { return e.Name + ": " + e.Message }

func fromC(err *C.KafkaError) error {
	if err.code == C.KAFKA_OK {
		return nil
	}
	return &Error{
		Code:        int(err.code),
		Name:        C.GoString(C.kafka_error_code_name(C.KafkaErrorCode(err.code))),
		RdkafkaCode: int(err.rdkafka_code),
		Message:     C.GoString(&err.message[0]),
	}
}

// Instance makes producers and consumers from one set of settings.
type Instance struct{ c *C.KafkaInstance }

// NewInstance takes settings by their names in the library
// (bootstrap_servers, kafka_url, group_id, auto_offset_reset, acks, ...).
func NewInstance(settings map[string]string) (*Instance, error) {
	cfg := C.kafka_config_new()
	defer C.kafka_config_free(cfg)
	var e C.KafkaError
	for k, v := range settings {
		ck, cv := C.CString(k), C.CString(v)
		C.kafka_config_set(cfg, ck, cv, &e)
		C.free(unsafe.Pointer(ck))
		C.free(unsafe.Pointer(cv))
		if err := fromC(&e); err != nil {
			return nil, err
		}
	}
	inst := C.kafka_instance_new(cfg, &e)
	if inst == nil {
		return nil, fromC(&e)
	}
	return &Instance{inst}, nil
}

// Free releases the instance (its producers and consumers keep working).
func (i *Instance) Free() {
	if i.c != nil {
		C.kafka_instance_free(i.c)
		i.c = nil
	}
}

// Delivery is what became of one sent message.
type Delivery struct {
	Topic     string
	Partition int32
	Offset    int64
	Err       error
}

type sent struct {
	topic string
	fn    func(Delivery)
}

// Producer sends messages; safe for concurrent use.
type Producer struct {
	c *C.KafkaProducer
}

// Producer makes a producer with the instance's settings.
func (i *Instance) Producer() (*Producer, error) {
	var e C.KafkaError
	p := C.kafka_instance_get_producer(i.c, nil, &e)
	if p == nil {
		return nil, fromC(&e)
	}
	return &Producer{p}, nil
}

//export kiGoDelivered
func kiGoDelivered(report *C.KafkaDeliveryReport, opaque unsafe.Pointer) {
	h := cgo.Handle(uintptr(opaque))
	s := h.Value().(sent)
	h.Delete()
	d := Delivery{Topic: s.topic, Partition: int32(report.partition), Offset: int64(report.offset)}
	if report.code != C.KAFKA_OK {
		d.Err = &Error{Code: int(report.code), Name: C.GoString(C.kafka_error_code_name(C.KafkaErrorCode(report.code))),
			RdkafkaCode: int(report.rdkafka_code), Message: "delivery failed"}
	}
	if s.fn != nil {
		func() {
			defer func() { _ = recover() }() // never unwinds into C
			s.fn(d)
		}()
	}
}

// SendJSON sends value encoded as JSON; delivered (may be nil) is called
// once, on the producer's thread, with the broker's answer.
func (p *Producer) SendJSON(topic string, key []byte, value interface{}, delivered func(Delivery)) error {
	body, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("encoding the value: %w", err)
	}
	ctopic := C.CString(topic)
	defer C.free(unsafe.Pointer(ctopic))
	var ckey *C.char
	if key != nil {
		ckey = (*C.char)(C.CBytes(key))
		defer C.free(unsafe.Pointer(ckey))
	}
	cbody := (*C.char)(C.CBytes(body))
	defer C.free(unsafe.Pointer(cbody))
	h := cgo.NewHandle(sent{topic, delivered})
	var e C.KafkaError
	if C.ki_send_json(p.c, ctopic, ckey, C.size_t(len(key)), cbody, C.size_t(len(body)), C.uintptr_t(h), &e) != C.KAFKA_OK {
		h.Delete() // refused: the callback will not come
		return fromC(&e)
	}
	return nil
}

// Flush waits up to timeoutMs (-1: no limit) until every message is answered.
func (p *Producer) Flush(timeoutMs int) error {
	var e C.KafkaError
	C.kafka_producer_flush(p.c, C.int32_t(timeoutMs), nil, &e)
	return fromC(&e)
}

// Close delivers what is queued (up to timeoutMs) and releases the producer.
func (p *Producer) Close(timeoutMs int) error {
	if p.c == nil {
		return nil
	}
	var e C.KafkaError
	C.kafka_producer_close(p.c, C.int32_t(timeoutMs), &e)
	p.c = nil
	return fromC(&e)
}

// Message is a received message, valid during its handler only.
type Message struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
}

// Handler processes one message; an error (or a panic) is logged by the
// library and the message still counts as processed.
type Handler func(m *Message) error

// Consumer reads its topics and dispatches to handlers; use it from one
// goroutine at a time.
type Consumer struct {
	c        *C.KafkaConsumer
	mu       sync.Mutex
	handlers []cgo.Handle
}

// Consumer makes a consumer subscribed to topics.
func (i *Instance) Consumer(topics ...string) (*Consumer, error) {
	names := make([]*C.char, len(topics))
	for n, t := range topics {
		names[n] = C.CString(t)
		defer C.free(unsafe.Pointer(names[n]))
	}
	var e C.KafkaError
	var first **C.char
	if len(names) > 0 {
		first = &names[0]
	}
	c := C.kafka_instance_get_consumer(i.c, first, C.size_t(len(names)), nil, &e)
	if c == nil {
		return nil, fromC(&e)
	}
	return &Consumer{c: c}, nil
}

//export kiGoHandle
func kiGoHandle(m *C.KafkaMessage, opaque unsafe.Pointer) (rc C.int) {
	fn := cgo.Handle(uintptr(opaque)).Value().(Handler)
	var klen, vlen C.size_t
	k := C.kafka_message_key(m, &klen)
	v := C.kafka_message_value(m, &vlen)
	msg := &Message{
		Topic:     C.GoString(C.kafka_message_topic(m)),
		Partition: int32(C.kafka_message_partition(m)),
		Offset:    int64(C.kafka_message_offset(m)),
	}
	if k != nil {
		msg.Key = C.GoBytes(unsafe.Pointer(k), C.int(klen))
	}
	if v != nil {
		msg.Value = C.GoBytes(unsafe.Pointer(v), C.int(vlen))
	}
	defer func() {
		if recover() != nil { // never unwinds into C
			rc = 1
		}
	}()
	if fn(msg) != nil {
		return 1
	}
	return 0
}

// Handle registers fn for topic; handlers of a topic run in order.
func (c *Consumer) Handle(topic string, fn Handler) error {
	ctopic := C.CString(topic)
	defer C.free(unsafe.Pointer(ctopic))
	h := cgo.NewHandle(fn)
	var e C.KafkaError
	if C.ki_register(c.c, ctopic, C.uintptr_t(h), &e) != C.KAFKA_OK {
		h.Delete()
		return fromC(&e)
	}
	c.mu.Lock()
	c.handlers = append(c.handlers, h)
	c.mu.Unlock()
	return nil
}

// Consume polls once (up to timeoutMs) and runs the handlers; returns how
// many messages were dispatched.
func (c *Consumer) Consume(timeoutMs int) (int, error) {
	var n C.size_t
	var e C.KafkaError
	C.kafka_consumer_consume(c.c, C.int32_t(timeoutMs), &n, &e)
	return int(n), fromC(&e)
}

// Close commits what was processed, leaves the group and releases the
// consumer and its handlers.
func (c *Consumer) Close() error {
	if c.c == nil {
		return nil
	}
	var e C.KafkaError
	C.kafka_consumer_close(c.c, &e)
	c.c = nil
	c.mu.Lock()
	for _, h := range c.handlers {
		h.Delete()
	}
	c.handlers = nil
	c.mu.Unlock()
	return fromC(&e)
}

// MockCluster is the library's embedded broker (librdkafka's mock cluster).
type MockCluster struct{ c *C.KafkaMockCluster }

// NewMockCluster starts brokers embedded brokers on loopback.
func NewMockCluster(brokers int) (*MockCluster, error) {
	var e C.KafkaError
	mc := C.kafka_mock_cluster_new(C.int32_t(brokers), &e)
	if mc == nil {
		return nil, fromC(&e)
	}
	return &MockCluster{mc}, nil
}

// BootstrapServers is the address list to connect to.
func (m *MockCluster) BootstrapServers() string {
	return C.GoString(C.kafka_mock_cluster_bootstrap_servers(m.c))
}

// CreateTopic makes a topic with partitions partitions.
func (m *MockCluster) CreateTopic(topic string, partitions int) error {
	ct := C.CString(topic)
	defer C.free(unsafe.Pointer(ct))
	var e C.KafkaError
	C.kafka_mock_cluster_create_topic(m.c, ct, C.int32_t(partitions), 1, &e)
	return fromC(&e)
}

// Free stops the brokers.
func (m *MockCluster) Free() {
	if m.c != nil {
		C.kafka_mock_cluster_free(m.c)
		m.c = nil
	}
}
