package metrics

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAWorkerThatCrashesIsDownAndCountedUntilItRunsAgain(t *testing.T) {
	m := New()
	endpoint, err := m.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = endpoint.Close() })
	m.ReportWorker("consumer", true)
	m.ReportWorker("consumer", false)
	if body := get(t, endpoint.Port); !strings.Contains(body, `vidmesh_worker_up{worker="consumer"} 0`) ||
		!strings.Contains(body, `vidmesh_worker_crashes_total{worker="consumer"} 1`) {
		t.Errorf("after a crash:\n%s", grep(body, "vidmesh_worker"))
	}
	m.ReportWorker("consumer", true)
	if body := get(t, endpoint.Port); !strings.Contains(body, `vidmesh_worker_up{worker="consumer"} 1`) ||
		!strings.Contains(body, `vidmesh_worker_crashes_total{worker="consumer"} 1`) {
		t.Errorf("after the restart:\n%s", grep(body, "vidmesh_worker"))
	}
}

func get(t *testing.T, port int) string {
	t.Helper()
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func grep(body, prefix string) string {
	var lines []string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}
