// 联结 Lianjie — a little plain JavaScript: confirmation prompts and progress of background jobs.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});

const STATUS_LABELS = {queued: "排队中", running: "运行中", completed: "已完成", failed: "失败"};

function followJob(row) {
  const poll = async () => {
    let job;
    try {
      const response = await fetch(row.dataset.statusUrl, {headers: {Accept: "application/json"}});
      if (!response.ok) return;
      job = await response.json();
    } catch (error) { setTimeout(poll, 3000); return; }
    row.dataset.status = job.status;
    row.querySelector(".job-status").textContent = STATUS_LABELS[job.status] || job.status;
    const bar = row.querySelector("progress");
    if (bar) { bar.value = job.progress || 0; bar.textContent = Math.round((job.progress || 0) * 100) + "%"; }
    const message = row.querySelector(".job-message");
    if (message) message.textContent = (job.message || "").split(" / ")[0];
    if (job.status === "completed" || job.status === "failed") { window.location.reload(); return; }
    setTimeout(poll, 1500);
  };
  setTimeout(poll, 1000);
}

document.querySelectorAll("tr[data-job]").forEach((row) => {
  if (row.dataset.status === "queued" || row.dataset.status === "running") followJob(row);
});

// The ledger's 查看 / 编辑: without JavaScript the link opens the row's own page; with it, the same form and history
// are fetched and shown in a <dialog>. Saving posts the form as usual (the page reloads with the message).
const ledgerDialog = document.getElementById("ledger-dialog");
if (ledgerDialog && typeof ledgerDialog.showModal === "function") {
  const body = ledgerDialog.querySelector(".dialog-body");
  document.addEventListener("click", async (event) => {
    const link = event.target.closest("a[data-ledger-dialog]");
    if (link) {
      event.preventDefault();
      try {
        const response = await fetch(link.dataset.ledgerDialog, {credentials: "same-origin", headers: {Accept: "text/html"}});
        if (!response.ok || response.redirected) { window.location.href = link.href; return; }
        body.innerHTML = await response.text();
      } catch (error) { window.location.href = link.href; return; }
      ledgerDialog.showModal();
      const first = body.querySelector("input, select, textarea");
      if (first) first.focus();
      return;
    }
    if (event.target.closest("#ledger-dialog [data-close-dialog]")) { event.preventDefault(); ledgerDialog.close(); }
  });
  ledgerDialog.addEventListener("close", () => { body.innerHTML = ""; });
}

// 全选本页: a checkbox that ticks every box of the named group.
document.querySelectorAll("input[data-check-all]").forEach((all) => {
  all.addEventListener("change", () => {
    document.querySelectorAll(`input[type=checkbox][name="${all.dataset.checkAll}"]`).forEach((box) => {
      box.checked = all.checked;
    });
  });
});
