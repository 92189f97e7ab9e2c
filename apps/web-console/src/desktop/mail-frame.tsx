// A message body in a sandboxed frame: no scripts (no allow-scripts), srcdoc built by prepareMailHtml,
// remote images held back until the agent allows them for this message. allow-same-origin lets the
// desktop size the frame to its content (it can run nothing, so it cannot use that origin itself);
// allow-popups lets a clicked link open in a new tab.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { prepareMailHtml, textAsHtml } from './mail-html';

export function MailFrame(props: { html: string; text: string; cidImages: Record<string, string>; title: string }) {
  const [allowRemote, setAllowRemote] = useState(false);
  const frame = useRef<HTMLIFrameElement>(null);
  const prepared = useMemo(
    () => prepareMailHtml(props.html || textAsHtml(props.text), { allowRemoteImages: allowRemote, cidImages: props.cidImages }),
    [props.html, props.text, props.cidImages, allowRemote],
  );
  useEffect(() => {
    const element = frame.current;
    if (!element) return;
    const fit = () => {
      // The body's height, not the root's: the root is at least as tall as the frame itself.
      const body = element.contentDocument?.body;
      if (body) element.style.height = `${Math.min(Math.max(body.scrollHeight + 8, 48), 4000)}px`;
    };
    element.addEventListener('load', fit);
    return () => element.removeEventListener('load', fit);
  }, []);
  return (
    <div class="mail-body">
      {prepared.blockedImages > 0 ? (
        <p class="blocked" data-testid="remote-images-blocked">
          {prepared.blockedImages === 1 ? '1 remote image was' : `${prepared.blockedImages} remote images were`} not loaded, so
          the sender cannot tell that you read this.{' '}
          <button class="link" onClick={() => setAllowRemote(true)}>
            Show remote images
          </button>
        </p>
      ) : null}
      <iframe
        ref={frame}
        class="mail-frame"
        title={props.title}
        sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"
        referrerpolicy="no-referrer"
        srcdoc={prepared.srcdoc}
        data-testid="mail-frame"
      />
    </div>
  );
}
