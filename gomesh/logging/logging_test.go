package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"vidmesh/gomesh/tracing"
)

func TestEveryLineHasServiceAndItsSpansIDsInStructlogsShape(t *testing.T) {
	var out bytes.Buffer
	logger := New(&out, "recommendations", "info")
	ctx := tracing.Remote(context.Background(), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "")
	logger.WarnContext(ctx, "inside a call", "n", 1)
	logger.Info("outside a call")
	logger.Debug("below the level")
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), out.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal(lines[0], &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(lines[1], &second); err != nil {
		t.Fatal(err)
	}
	if first["event"] != "inside a call" || first["level"] != "warning" || first["service"] != "recommendations" ||
		first["trace_id"] != "0af7651916cd43dd8448eb211c80319c" || first["span_id"] != "b7ad6b7169203331" ||
		first["timestamp"] == nil {
		t.Errorf("first line = %v", first)
	}
	if traceID, present := second["trace_id"]; !present || traceID != nil || second["span_id"] != nil {
		t.Errorf("outside a call trace_id should be null, line = %v", second)
	}
}
