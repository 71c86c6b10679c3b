// Schedules in words: "every day at 02:00 (Europe/Berlin)", "every 15 minutes",
// "every weekday at 09:30 (UTC)". Unusual cron expressions fall back to the expression.

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

const num = (s) => /^\d+$/.test(s);
const pad = (n) => String(n).padStart(2, "0");

function ordinal(n) {
  const s = ["th", "st", "nd", "rd"];
  const v = n % 100;
  return `${n}${s[(v - 20) % 10] || s[v] || s[0]}`;
}

function daysText(dow) {
  if (dow === "*") return null;
  if (dow === "1-5") return "every weekday";
  if (dow === "0,6" || dow === "6,0") return "every weekend day";
  const list = dow.split(",");
  if (list.every(num)) return `every ${list.map((d) => DAYS[Number(d) % 7]).join(", ")}`;
  const range = dow.match(/^(\d)-(\d)$/);
  if (range) return `every ${DAYS[Number(range[1]) % 7]} to ${DAYS[Number(range[2]) % 7]}`;
  return null;
}

export function cronInWords(expr, zone = "UTC") {
  const fields = String(expr).trim().split(/\s+/);
  if (fields.length !== 5) return `cron ${expr}`;
  const [min, hour, dom, mon, dow] = fields;
  const where = ` (${zone})`;
  const fallback = `cron “${expr}”${where}`;
  let step;
  if (min === "*" && hour === "*" && dom === "*" && mon === "*" && dow === "*") return "every minute";
  if ((step = min.match(/^\*\/(\d+)$/)) && hour === "*" && dom === "*" && mon === "*" && dow === "*") return `every ${step[1]} minutes`;
  if (num(min) && hour === "*" && dom === "*" && mon === "*" && dow === "*") return `every hour at :${pad(min)}`;
  if (num(min) && (step = hour.match(/^\*\/(\d+)$/)) && dom === "*" && mon === "*" && dow === "*") return `every ${step[1]} hours at :${pad(min)}${where}`;
  if (!num(min)) return fallback;
  const hours = hour.split(",");
  if (!hours.every(num)) return fallback;
  const at = `at ${hours.map((h) => `${pad(h)}:${pad(min)}`).join(", ")}`;
  if (dom === "*" && mon === "*") {
    const days = daysText(dow);
    if (dow === "*") return `every day ${at}${where}`;
    return days ? `${days} ${at}${where}` : fallback;
  }
  if (num(dom) && dow === "*") {
    if (mon === "*") return `on the ${ordinal(Number(dom))} of every month ${at}${where}`;
    if (num(mon)) return `every year on ${MONTHS[Number(mon)]} ${Number(dom)} ${at}${where}`;
  }
  return fallback;
}

export function intervalInWords(seconds) {
  const s = Number(seconds);
  if (!Number.isFinite(s) || s <= 0) return `every ${seconds} s`;
  const parts = [];
  let rest = s;
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]]) {
    if (rest >= size) {
      const n = Math.floor(rest / size);
      parts.push(`${n} ${unit}`);
      rest -= n * size;
    }
  }
  if (rest > 0) parts.push(`${rest.toFixed(3).replace(/0+$/, "")} s`);
  return s === 1 ? "every second" : `every ${parts.join(" ")}`;
}

export function scheduleInWords(schedule) {
  if (!schedule) return "—";
  if (schedule.interval_s !== undefined && schedule.interval_s !== null) return intervalInWords(schedule.interval_s);
  return cronInWords(schedule.cron, schedule.timezone || "UTC");
}
