"""Demo data, kept out of the collect path: the demo stream and its phrase pools (used only by the
`demo` source kind) and the demo server behind `koubei demo-sources`."""
