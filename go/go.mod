module kafka_instance/go

go 1.19
