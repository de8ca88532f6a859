// How numbers and times are shown. Counts and versions arrive as strings (proto3 JSON
// writes 64-bit integers as strings).

export function duration(totalSeconds: number): string {
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = String(totalSeconds % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

export function count(value: string | number, one: string, many: string): string {
  const n = Number(value);
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}

export function date(timestamp: string | undefined): string {
  return timestamp ? new Date(timestamp).toLocaleDateString("en", { dateStyle: "medium" }) : "";
}

/** "a, b ,, c" -> ["a", "b", "c"]: tags as the create form takes them. */
export function tags(input: string): string[] {
  return input.split(",").map((tag) => tag.trim()).filter((tag) => tag.length > 0);
}
