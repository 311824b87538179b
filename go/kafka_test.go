package kafkainstance

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// servers: KAFKA_BOOTSTRAP_SERVERS when set, else an embedded broker with
// the topic made on it.
func servers(t *testing.T, topic string) string {
	if s := strings.TrimSpace(os.Getenv("KAFKA_BOOTSTRAP_SERVERS")); s != "" {
		inst, err := NewInstance(map[string]string{"bootstrap_servers": s})
		if err != nil {
			t.Fatal(err)
		}
		defer inst.Free()
		return s
	}
	mc, err := NewMockCluster(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mc.Free)
	if err := mc.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	return mc.BootstrapServers()
}

type order struct {
	ID int `json:"order_id"`
}

func TestProduceJSONConsumeThroughAHandlerAndClose(t *testing.T) {
	topic := fmt.Sprintf("go-orders-%d", time.Now().UnixNano())
	inst, err := NewInstance(map[string]string{
		"bootstrap_servers": servers(t, topic),
		"group_id":          topic,
		"auto_offset_reset": "earliest",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Free()

	p, err := inst.Producer()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var delivered []Delivery
	for i := 0; i < 10; i++ {
		err := p.SendJSON(topic, []byte(fmt.Sprint(i)), order{i}, func(d Delivery) {
			mu.Lock()
			delivered = append(delivered, d)
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(10000); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(10000); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(delivered) != 10 {
		t.Fatalf("%d delivery callbacks, want 10", len(delivered))
	}
	for _, d := range delivered {
		if d.Err != nil || d.Topic != topic || d.Offset < 0 {
			t.Fatalf("delivery %+v", d)
		}
	}
	mu.Unlock()
	if err := p.SendJSON(topic, nil, order{}, nil); err == nil {
		t.Fatal("send after close: want an error")
	}

	c, err := inst.Consumer(topic)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	err = c.Handle(topic, func(m *Message) error {
		var o order
		if err := json.Unmarshal(m.Value, &o); err != nil {
			return err
		}
		got = append(got, o.ID)
		if o.ID == 3 {
			panic("a panicking handler is recovered")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < 10 && time.Now().Before(deadline) {
		if _, err := c.Consume(500); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("handled %v, want %v", got, want)
	}
	if _, err := NewInstance(map[string]string{"no_such_setting": "1"}); err == nil {
		t.Fatal("an unknown setting: want an error")
	}
}
