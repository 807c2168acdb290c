"""The page at /: type a text, see the entities highlighted in it (NER) or the labels with their probabilities
(classification). Self-contained (no external scripts or styles); ?text=... fills the box and predicts at once."""

import html
import json

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>__TITLE__</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.3rem; } .meta { color: #666; font-size: .9rem; }
textarea { width: 100%; min-height: 7rem; font: inherit; padding: .5rem; box-sizing: border-box; }
button { font: inherit; padding: .4rem 1.2rem; margin: .5rem 0; }
#result { line-height: 2.2; white-space: pre-wrap; border-top: 1px solid #ddd; padding-top: .8rem; }
mark.entity { padding: .1rem .25rem; border-radius: .25rem; background: #ffe08a; }
mark.entity .type { font-size: .7rem; font-weight: 600; margin-left: .3rem; color: #444; }
mark.PER { background: #ffd3b6; } mark.ORG { background: #c7e9ff; } mark.LOC { background: #c9f2c7; }
mark.MISC { background: #e8d7ff; }
.bar { background: #4a90d9; height: .8rem; display: inline-block; vertical-align: middle; }
table { border-collapse: collapse; } td { padding: .15rem .6rem .15rem 0; }
.error { color: #b00020; }
</style>
</head>
<body>
<h1>__TITLE__</h1>
<p class="meta">__META__</p>
<textarea id="text" placeholder="Type a text here"></textarea>
<div id="pair-box" hidden><textarea id="pair" placeholder="Second text of the pair (optional)"></textarea></div>
<button id="go">Predict</button>
<div id="result"></div>
<script>
const CONFIG = __CONFIG__;
const result = document.getElementById("result");
if (CONFIG.pairs) document.getElementById("pair-box").hidden = false;

function showEntities(text, entities) {
  // the offsets count code points (Python's str indices); a JavaScript string counts UTF-16 units, so an emoji
  // before an entity would shift it: slice the text's code points instead
  const points = Array.from(text);
  const slice = (start, end) => points.slice(start, end).join("");
  result.replaceChildren();
  let at = 0;
  for (const entity of entities) {
    result.append(document.createTextNode(slice(at, entity.start)));
    const mark = document.createElement("mark");
    mark.className = "entity " + entity.type;
    mark.title = entity.type + " " + entity.score.toFixed(3);
    mark.dataset.type = entity.type;
    mark.append(document.createTextNode(slice(entity.start, entity.end)));
    const type = document.createElement("span");
    type.className = "type";
    type.textContent = entity.type;
    mark.append(type);
    result.append(mark);
    at = entity.end;
  }
  result.append(document.createTextNode(slice(at)));
  if (!entities.length) {
    const none = document.createElement("p");
    none.className = "meta";
    none.textContent = "No entities found.";
    result.append(none);
  }
}

function showLabels(prediction) {
  result.replaceChildren();
  const head = document.createElement("p");
  if ("value" in prediction) { head.textContent = "Value: " + prediction.value; result.append(head); return; }
  const chosen = prediction.labels || [prediction.label];
  head.innerHTML = "Label: ";
  const strong = document.createElement("strong");
  strong.id = "label";
  strong.textContent = chosen.join(", ") || "(none)";
  head.append(strong);
  result.append(head);
  const table = document.createElement("table");
  const ordered = Object.entries(prediction.probabilities).sort((a, b) => b[1] - a[1]);
  for (const [name, probability] of ordered) {
    const row = table.insertRow();
    row.insertCell().textContent = name;
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = (probability * 12) + "rem";
    row.insertCell().append(bar);
    row.insertCell().textContent = probability.toFixed(4);
  }
  result.append(table);
}

async function predict() {
  const text = document.getElementById("text").value;
  const pair = CONFIG.pairs ? document.getElementById("pair").value : "";
  const item = pair ? {"text": text, "text_pair": pair} : text;
  result.textContent = "…";
  try {
    const response = await fetch("predict", {method: "POST", headers: {"Content-Type": "application/json"},
                                             body: JSON.stringify([item])});
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    if (CONFIG.shows === "entities") showEntities(text, body[0].entities); else showLabels(body[0]);
  } catch (error) {
    result.replaceChildren();
    const message = document.createElement("p");
    message.className = "error";
    message.textContent = "Error: " + error.message;
    result.append(message);
  }
}

document.getElementById("go").addEventListener("click", predict);
const given = new URLSearchParams(location.search);
if (given.get("text")) {
  document.getElementById("text").value = given.get("text");
  if (given.get("text_pair")) document.getElementById("pair").value = given.get("text_pair");
  predict();
}
</script>
</body>
</html>
"""


def render_page(title: str, meta: str, shows: str, pairs: bool) -> str:
    config = json.dumps({"shows": shows, "pairs": pairs}).replace("<", "\\u003c")
    return (PAGE.replace("__TITLE__", html.escape(title)).replace("__META__", html.escape(meta))
            .replace("__CONFIG__", config))
