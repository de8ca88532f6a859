package server_test

import "log/slog"

func slogDefault() *slog.Logger      { return slog.Default() }
func setDefault(logger *slog.Logger) { slog.SetDefault(logger) }
