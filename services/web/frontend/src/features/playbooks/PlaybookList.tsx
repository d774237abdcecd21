import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { request } from "../../api/client";
import type { Playbook } from "../../api/types";
import { QueryState } from "../../components/Loading";
import { ProblemAlert } from "../../components/ProblemAlert";
import { canDefinePlaybooks } from "../auth/roles";
import { useSignedInMember } from "../auth/session";
import { usePlaybooks } from "../campaigns/queries";

/** POST /playbooks/import takes the YAML file itself as the body (application/yaml). */
export function importPlaybook(yaml: string, revise?: { playbookId: string; expectedVersion: number }): Promise<Playbook> {
  const query = revise ? `?playbook_id=${encodeURIComponent(revise.playbookId)}&expected_version=${revise.expectedVersion}` : "";
  return request<Playbook>(`/api/planning/playbooks/import${query}`, {
    method: "POST",
    headers: { "Content-Type": "application/yaml" },
    body: yaml,
  });
}

export default function PlaybookList() {
  const me = useSignedInMember();
  const playbooks = usePlaybooks();
  return (
    <div className="playbooks">
      <h1>Playbooks</h1>
      <div className="grid-2">
        <section className="card" aria-labelledby="playbook-list">
          <h2 id="playbook-list">All playbooks</h2>
          <QueryState what="the playbooks" isPending={playbooks.isPending} error={playbooks.error}>
            {playbooks.data?.length ? (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Playbook</th>
                    <th scope="col">Version</th>
                    <th scope="col">Tasks</th>
                  </tr>
                </thead>
                <tbody>
                  {[...playbooks.data]
                    .sort((a, b) => a.name.localeCompare(b.name))
                    .map((playbook) => (
                      <tr key={playbook.id}>
                        <th scope="row">
                          <Link to={`/playbooks/${playbook.id}`}>{playbook.name}</Link>
                        </th>
                        <td>v{playbook.version}</td>
                        <td>{playbook.tasks}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            ) : (
              <p className="empty">No playbook yet.</p>
            )}
          </QueryState>
        </section>
        {canDefinePlaybooks(me) ? <ImportPlaybook /> : null}
      </div>
    </div>
  );
}

/** Import a YAML file as a new playbook (or, with `revise`, as the next version of one). */
export function ImportPlaybook({ revise }: { revise?: { playbookId: string; expectedVersion: number } }) {
  const [file, setFile] = useState<File | null>(null);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const label = revise ? "Import a new version (YAML)" : "Import playbook (YAML)";
  const run = useMutation({
    mutationFn: async (chosen: File) => importPlaybook(await chosen.text(), revise),
    onSuccess: async (playbook) => {
      await queryClient.invalidateQueries({ queryKey: ["planning"] });
      navigate(`/playbooks/${playbook.id}`);
    },
  });
  const inputId = revise ? "import-revision" : "import-playbook";
  return (
    <section className="card" aria-labelledby={`${inputId}-heading`}>
      <h2 id={`${inputId}-heading`}>{revise ? "New version from a file" : "Import a playbook"}</h2>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (file) run.mutate(file);
        }}
      >
        <label htmlFor={inputId}>{label}</label>
        <input
          id={inputId}
          type="file"
          accept=".yaml,.yml,application/yaml,text/yaml"
          onChange={(event) => setFile(event.target.files?.[0] ?? null)}
        />
        <p className="muted">A playbook file as exported here (see services/planning/playbooks/README.md).</p>
        <button type="submit" className="primary" disabled={!file || run.isPending}>
          {run.isPending ? "Importing…" : revise ? "Import version" : "Import"}
        </button>
      </form>
      {run.error ? <ProblemAlert error={run.error} onDismiss={() => run.reset()} /> : null}
    </section>
  );
}
