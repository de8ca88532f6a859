package tracing

import (
	"context"
	"testing"
)

func TestTraceIDAcceptsOnlyWellFormedTraceparents(t *testing.T) {
	valid := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	tests := map[string]string{
		valid:             "0af7651916cd43dd8448eb211c80319c",
		" " + valid + " ": "0af7651916cd43dd8448eb211c80319c",
		"":                "",
		"garbage":         "",
		"ff" + valid[2:]:  "",
		"00-" + zeros(32) + "-b7ad6b7169203331-01":                 "",
		"00-0af7651916cd43dd8448eb211c80319c-" + zeros(16) + "-01": "",
	}
	for in, want := range tests {
		if got := TraceID(in); got != want {
			t.Errorf("TraceID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContinueKeepsTheTraceWithANewSpan(t *testing.T) {
	incoming := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	ctx := Continue(context.Background(), incoming)
	got := Traceparent(ctx)
	if CurrentTraceID(ctx) != "0af7651916cd43dd8448eb211c80319c" || got == incoming || TraceID(got) == "" {
		t.Errorf("Continue gave %q", got)
	}
	fresh := CurrentTraceID(Continue(context.Background(), "nonsense"))
	if len(fresh) != 32 {
		t.Errorf("a malformed traceparent should start a new trace, got %q", fresh)
	}
}

func zeros(n int) string {
	out := make([]byte, n)
	for i := range out {
		out[i] = '0'
	}
	return string(out)
}
