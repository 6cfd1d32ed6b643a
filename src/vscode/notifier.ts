import * as vscode from 'vscode';
import type { EscalationContext, Incident } from '../core/model/incident';
import { targetLabel } from '../core/model/target';
import type { NotifierPort } from '../core/ports';

export interface NotificationActions {
  /** `stepId`: the step the notification proposed; a proposal that changed since is refused, not approved. */
  approve(incidentId: string, stepId?: string): Promise<void>;
  reject(incidentId: string): Promise<void>;
  /** Opens the incident's room. */
  show(incidentId: string): void;
  /** Undefined while the incident waits for a human; otherwise what became of it ("rejected by …"). */
  decided(incidentId: string): string | undefined;
}

/** Notifications only when a human is needed (approval, escalation), with the action in the notification. */
export class VscodeNotifier implements NotifierPort {
  constructor(private readonly actions: () => NotificationActions) {}

  async approvalNeeded(i: Incident, stepId: string, summary: string): Promise<void> {
    void vscode.window.showWarningMessage(`Vigil: ${targetLabel(i.target)} needs your approval: ${summary}`, 'Approve', 'Reject', 'Show').then(async (choice) => {
      const a = this.actions();
      // the notification outlives the decision when it was made elsewhere (view, tree, another window)
      const decided = choice === 'Approve' || choice === 'Reject' ? a.decided(i.id) : undefined;
      if (decided) {
        void vscode.window.showInformationMessage(`Vigil: ${targetLabel(i.target)} was already decided (${decided}); nothing to do.`);
        return;
      }
      try {
        if (choice === 'Approve') await a.approve(i.id, stepId);
        else if (choice === 'Reject') await a.reject(i.id);
        else if (choice === 'Show') a.show(i.id);
      } catch (err) {
        void vscode.window.showErrorMessage(`Vigil: ${choice} failed: ${(err as Error).message}`);
      }
    });
  }

  async escalate(c: EscalationContext): Promise<void> {
    void vscode.window.showErrorMessage(`Vigil escalates ${targetLabel(c.target)} to you: ${c.reason}`, 'Show').then((choice) => {
      if (choice === 'Show') this.actions().show(c.incidentId);
    });
  }

  async resolved(): Promise<void> {
    // recovery needs no human: the view and the tree show it
  }
}
