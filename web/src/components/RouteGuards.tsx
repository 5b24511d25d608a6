import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router-dom';
import { useAuth, useAuthActions } from '../state/context';
import { safeReturnPath } from '../state/returnPath';
import { Splash } from './Splash';

interface FromState {
  from?: string;
}

/**
 * Only for logged-in users; others go to /login. With `returnHere` (e.g. an
 * invite link) they always come back after logging in.
 */
export function RequireAuth({ children, returnHere = false }: { children: ReactNode; returnHere?: boolean }) {
  const { status, sessionExpired } = useAuth();
  const { retry } = useAuthActions();
  const location = useLocation();
  if (status === 'loading') return <Splash />;
  if (status === 'error') return <Splash error onRetry={() => void retry()} />;
  if (status === 'anonymous') {
    // Come back here after logging in, unless the user logged out on purpose.
    const state: FromState | undefined =
      sessionExpired || returnHere ? { from: location.pathname + location.search } : undefined;
    return <Navigate to="/login" replace state={state} />;
  }
  return <>{children}</>;
}

/** Only for logged-out visitors; logged-in users go to the app. */
export function GuestOnly({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const { retry } = useAuthActions();
  const location = useLocation();
  if (status === 'loading') return <Splash />;
  if (status === 'error') return <Splash error onRetry={() => void retry()} />;
  if (status === 'authenticated') {
    const from = (location.state as FromState | null)?.from;
    // Only paths of this app: never another origin.
    const target = safeReturnPath(from) ?? '/app';
    return <Navigate to={target} replace />;
  }
  return <>{children}</>;
}
