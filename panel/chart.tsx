import { useEffect, useRef } from "preact/hooks";
import uPlot, { type AlignedData, type Options } from "uplot";

/** A uPlot chart that sizes itself to its container and redraws when `data` changes. */
export function Chart(props: { options: Omit<Options, "width" | "height">; data: AlignedData; height?: number; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot>();
  useEffect(() => {
    const el = box.current!;
    plot.current = new uPlot({ ...props.options, width: el.clientWidth || 300, height: props.height ?? 220 } as Options, props.data, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth || 300, height: props.height ?? 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
    };
  }, []);
  useEffect(() => plot.current?.setData(props.data), [props.data]);
  return <div class="chart" ref={box} role="img" aria-label={props.label} />;
}
