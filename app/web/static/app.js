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

// 全选本页: a checkbox that ticks every box of the named group.
document.querySelectorAll("input[data-check-all]").forEach((all) => {
  all.addEventListener("change", () => {
    document.querySelectorAll(`input[type=checkbox][name="${all.dataset.checkAll}"]`).forEach((box) => {
      box.checked = all.checked;
    });
  });
});
