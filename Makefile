.PHONY: build test cluster clean
build:
	go build -o bin/shoal ./cmd/shoal
test:
	scripts/test.sh
cluster:
	scripts/local-cluster.sh up
clean:
	scripts/local-cluster.sh down; rm -rf bin
