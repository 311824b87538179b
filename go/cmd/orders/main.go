package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	kafka "kafka_instance/go"
)

func main() {
	servers := os.Getenv("KAFKA_BOOTSTRAP_SERVERS")
	if servers == "" { // no broker given: an embedded one, in this process
		mc, err := kafka.NewMockCluster(1)
		if err != nil {
			panic(err)
		}
		defer mc.Free()
		if err := mc.CreateTopic("orders", 1); err != nil {
			panic(err)
		}
		servers = mc.BootstrapServers()
	}
	inst, err := kafka.NewInstance(map[string]string{
		"bootstrap_servers": servers,
		"group_id":          "orders-report",
		"auto_offset_reset": "earliest",
	})
	if err != nil {
		panic(err)
	}
	defer inst.Free()

	producer, err := inst.Producer()
	if err != nil {
		panic(err)
	}
	delivered := make(chan kafka.Delivery, 3)
	for id := 1; id <= 3; id++ {
		order := map[string]int{"order_id": id}
		if err := producer.SendJSON("orders", []byte(fmt.Sprint(id)), order, func(d kafka.Delivery) {
			delivered <- d // called on the producer's thread
		}); err != nil {
			panic(err)
		}
	}
	for i := 0; i < 3; i++ {
		if d := <-delivered; d.Err != nil {
			panic(d.Err)
		}
	}
	if err := producer.Close(10000); err != nil {
		panic(err)
	}

	consumer, err := inst.Consumer("orders")
	if err != nil {
		panic(err)
	}
	var received []int
	consumer.Handle("orders", func(m *kafka.Message) error {
		var order struct {
			OrderID int `json:"order_id"`
		}
		if err := json.Unmarshal(m.Value, &order); err != nil {
			return err
		}
		received = append(received, order.OrderID)
		return nil
	})
	for tries := 0; len(received) < 3 && tries < 40; tries++ {
		if _, err := consumer.Consume(500); err != nil {
			panic(err)
		}
	}
	if err := consumer.Close(); err != nil {
		panic(err)
	}
	sort.Ints(received)
	fmt.Println("received orders", received)
}
