package metrics

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vidmesh/gomesh/consumer"
)

// deadLetterQuery bounds the two offset lists a scrape asks Kafka for (the scrape timeout is 4 s).
const deadLetterQuery = 2 * time.Second

var (
	poolSize = prometheus.NewDesc("vidmesh_db_pool_size", "Connections the pool holds open.",
		[]string{"pool"}, nil)
	poolAvailable = prometheus.NewDesc("vidmesh_db_pool_available", "Open connections nobody uses now.",
		[]string{"pool"}, nil)
	poolMax = prometheus.NewDesc("vidmesh_db_pool_max", "The most connections the pool may open.",
		[]string{"pool"}, nil)

	consumerLag = prometheus.NewDesc("vidmesh_consumer_lag_records", "Records in a partition not applied yet.",
		[]string{"group", "topic", "partition"}, nil)
	consumerBehind = prometheus.NewDesc("vidmesh_consumer_lag_seconds",
		"How far behind its newest events a consumer (a read model) is: 0 when it has applied every "+
			"record, else the age of the last event it applied.", []string{"group"}, nil)
	consumerEvents = prometheus.NewDesc("vidmesh_consumer_events_total", "Records handled, by outcome.",
		[]string{"group", "outcome"}, nil)
	deadLetters = prometheus.NewDesc("vidmesh_dead_letter_records", "Records in the group's dead-letter topic.",
		[]string{"group", "topic"}, nil)

	workerUp = prometheus.NewDesc("vidmesh_worker_up",
		"1 while a background worker runs, 0 while it waits to be restarted.", []string{"worker"}, nil)
	workerCrashes = prometheus.NewDesc("vidmesh_worker_crashes_total",
		"Times a background worker crashed and was restarted.", []string{"worker"}, nil)
)

type poolCollector struct{ m *Metrics }

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolSize
	ch <- poolAvailable
	ch <- poolMax
}

// Collect reports pgxpool's Stat. Python's vidmesh_db_pool_requests_waiting has no
// counterpart there (pgxpool counts waits after the fact, not the callers waiting now).
func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	for name, pool := range c.m.pools {
		stat := pool.Stat()
		ch <- prometheus.MustNewConstMetric(poolSize, prometheus.GaugeValue, float64(stat.TotalConns()), name)
		ch <- prometheus.MustNewConstMetric(poolAvailable, prometheus.GaugeValue, float64(stat.IdleConns()), name)
		ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(stat.MaxConns()), name)
	}
}

type consumerCollector struct{ m *Metrics }

func (c consumerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, desc := range []*prometheus.Desc{consumerLag, consumerBehind, consumerEvents, deadLetters} {
		ch <- desc
	}
}

func (c consumerCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	consumers := append([]*consumer.Consumer{}, c.m.consumers...)
	c.m.mu.Unlock()
	now := time.Now()
	for _, each := range consumers {
		group, progress := each.Group(), each.Progress()
		for partition, records := range progress.Lag() {
			ch <- prometheus.MustNewConstMetric(consumerLag, prometheus.GaugeValue, float64(records), group,
				partition.Topic, strconv.Itoa(int(partition.Partition)))
		}
		ch <- prometheus.MustNewConstMetric(consumerBehind, prometheus.GaugeValue, progress.SecondsBehind(now), group)
		counts := each.Counts()
		for outcome, count := range map[string]int64{"applied": counts.Applied, "duplicate": counts.Duplicate,
			"skipped": counts.Skipped, "dead_lettered": counts.DeadLettered} {
			ch <- prometheus.MustNewConstMetric(consumerEvents, prometheus.CounterValue, float64(count), group, outcome)
		}
		if dead, known := c.m.deadLetters(each); known {
			ch <- prometheus.MustNewConstMetric(deadLetters, prometheus.GaugeValue, float64(dead), group, each.DLQ())
		}
	}
}

// deadLetters asks Kafka for the size of a consumer's dead-letter topic; while Kafka does not
// answer, the last known size stands (absent until Kafka answered once, as in Python).
func (m *Metrics) deadLetters(c *consumer.Consumer) (int64, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), deadLetterQuery)
	defer cancel()
	records, err := c.DeadLetters(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		slog.Debug("dead letters not measured", "group", c.Group(), "error", err.Error())
	} else {
		m.dead[c.Group()] = records
	}
	last, known := m.dead[c.Group()]
	return last, known
}

type workerCollector struct{ m *Metrics }

func (c workerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- workerUp
	ch <- workerCrashes
}

func (c workerCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	for name, w := range c.m.workers {
		up := 0.0
		if w.up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(workerUp, prometheus.GaugeValue, up, name)
		ch <- prometheus.MustNewConstMetric(workerCrashes, prometheus.CounterValue, float64(w.crashes), name)
	}
}
