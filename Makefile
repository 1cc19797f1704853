# perturbot: the two set-up commands of README.md.
#   make run   installs what is missing, builds (release), runs the bundled demo pipeline
#   make test  installs what is missing, builds, runs the test suite

DEMO_DATA := data/demo-4i.h5ad

.PHONY: run test build bootstrap

bootstrap:
	scripts/bootstrap

build: bootstrap
	swift build -c release

run: build
	.build/release/perturbot inspect $(DEMO_DATA)
	.build/release/perturbot run pipelines/demo.yaml

test: bootstrap
	swift build --build-tests
	swift test --disable-swift-testing
