"""Channel adapters: one interface (`base.Adapter.send`), one adapter per way out — email over
SMTP, SMS / push / voice robot over an HTTP gateway with signed requests, letters as PDF files in a print vendor's drop folder.
`fake_gateway` is a real local HTTP server standing in for the SMS/voice provider in tests, the
demo and the benchmark."""
